// The one latency percentile of the tools (dpq-grpc-bench, dpq-load), the same rule as the C
// latency client (clients/c/examples/latency.c): the value at index round((n - 1) p) of the sorted list.
public enum Percentile {
    /// `p` in 0...1 of `values` (any order); 0 for an empty list.
    public static func of(_ values: [Double], _ p: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * p).rounded()))]
    }
}
