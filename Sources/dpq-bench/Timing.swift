// Timing shared by the speed benchmarks: warm up once, then repeat until both a minimum
// count and a minimum total time are reached (bounded); report the median and the minimum.
import Foundation

struct Timing {
    var repetitions = 5
    var minSeconds = 1.0
    var maxRepetitions = 200

    struct Result {
        var median: Double
        var min: Double
        var runs: Int
    }

    func measure(warmUp: () -> Void, _ body: () -> Void) -> Result {
        warmUp()
        var times: [Double] = []
        var total = 0.0
        while times.count < maxRepetitions && (times.count < repetitions || total < minSeconds) {
            let started = DispatchTime.now().uptimeNanoseconds
            body()
            let t = Double(DispatchTime.now().uptimeNanoseconds - started) / 1e9
            times.append(t)
            total += t
        }
        times.sort()
        let mid = times.count / 2
        let median = times.count % 2 == 1 ? times[mid] : (times[mid - 1] + times[mid]) / 2
        return Result(median: median, min: times[0], runs: times.count)
    }
}

func printJSON(_ value: Any) throws {
    let data = try JSONSerialization.data(withJSONObject: value, options: [.sortedKeys, .prettyPrinted])
    print(String(decoding: data, as: UTF8.self))
}
