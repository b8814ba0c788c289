// dpq-bench: benchmarks printed as tables (and JSON with --json). See docs/benchmarks.md.
import ArgumentParser

@main
struct DPQBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dpq-bench",
        abstract: "DPQ benchmarks.",
        subcommands: [Quality.self, Reconstruction.self, Prepare.self, Scan.self, FastScan.self, IVF.self, Encode.self, TrainSpeed.self, ReadVectors.self, Generate.self])
}
