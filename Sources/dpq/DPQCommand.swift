// dpq: the DPQ server and a scriptable client. One subcommand per file.
import ArgumentParser

@main
struct DPQCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpq",
        abstract: "DPQ: label-aware similarity search with progressive quantization codes.",
        subcommands: [Serve.self, Collections.self, Train.self, Upsert.self, Search.self, Encode.self, Decode.self,
                      Eval.self, Export.self, Import.self, Health.self])
}
