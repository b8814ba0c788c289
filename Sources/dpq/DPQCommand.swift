// dpq: the DPQ server and a scriptable client. One subcommand per file.
import ArgumentParser
import DPQServerSupport
import Foundation

@main
enum DPQMain {
    static func main() async {
        // Swift concurrency on NIO's event loops: an RPC's bytes and its handler run on the
        // same threads instead of hopping between NIO and the cooperative pool (docs/design.md,
        // "Threads"; measured in docs/benchmarks.md). CPU-bound work (searches, encodes,
        // trainings, writes) runs on Dispatch queues or threads of its own. DPQ_DEFAULT_EXECUTOR=1
        // keeps Swift's own pool, should the runtime hooks ever misbehave.
        if getenv("DPQ_DEFAULT_EXECUTOR") == nil {
            EventLoopConcurrency.install()
        }
        await DPQCommand.main(nil)
    }
}

struct DPQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpq",
        abstract: "DPQ: label-aware similarity search with progressive quantization codes.",
        subcommands: [Serve.self, Collections.self, Train.self, Upsert.self, Search.self, Encode.self, Decode.self,
                      Eval.self, Export.self, Import.self, Health.self])
}
