// libm entry points, named so that files need not import Foundation for three functions.
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

@inline(__always) func Foundation_log(_ x: Double) -> Double { log(x) }
@inline(__always) func Foundation_cos(_ x: Double) -> Double { cos(x) }
@inline(__always) func Foundation_pow(_ x: Double, _ y: Double) -> Double { pow(x, y) }
@inline(__always) func expf_(_ x: Float) -> Float { expf(x) }
@inline(__always) func logf_(_ x: Float) -> Float { logf(x) }
@inline(__always) func tanhf_(_ x: Float) -> Float { tanhf(x) }
@inline(__always) func sqrtf_(_ x: Float) -> Float { sqrtf(x) }
@inline(__always) func powf_(_ x: Float, _ y: Float) -> Float { powf(x, y) }
