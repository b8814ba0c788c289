// First-order optimisers over named parameters (one [Float] each; the network's names, e.g.
// "trunk.0.weight", and "quantizer.codebooks"), with their state kept per name:
//   Adam:  m = b1 m + (1-b1) g;  v = b2 v + (1-b2) g^2;  p -= lr * m_hat / (sqrt(v_hat) + eps)
//   SGD:   v = momentum v + g;  p -= lr * v
// Weight decay, when set, is added to the gradient (L2), not decoupled.

public struct Optimizer: Sendable {
    public let kind: OptimizerKind
    public var momentum: Float
    public var weightDecay: Float
    let beta1: Float = 0.9
    let beta2: Float = 0.999
    let epsilon: Float = 1e-8

    struct State: Sendable {
        var first: [Float]
        var second: [Float]
        var steps = 0
    }
    private var states: [String: State] = [:]

    public init(kind: OptimizerKind, momentum: Float = 0.9, weightDecay: Float = 0) {
        self.kind = kind
        self.momentum = momentum
        self.weightDecay = weightDecay
    }

    /// One update of parameter `name` with gradient `g` at learning rate `lr`.
    public mutating func update(_ name: String, parameters p: inout [Float], gradient g: [Float], learningRate lr: Float) {
        precondition(p.count == g.count, "Optimizer: \(name) has \(p.count) parameters and \(g.count) gradients")
        // Taken out of the dictionary while it is updated, so that its arrays are not copied.
        var state = states.removeValue(forKey: name) ?? State(first: [], second: [])
        defer { states[name] = state }
        if state.first.count != p.count {
            state = State(first: [Float](repeating: 0, count: p.count),
                          second: kind == .adam ? [Float](repeating: 0, count: p.count) : [])
        }
        state.steps += 1
        let wd = weightDecay
        switch kind {
        case .adam:
            let t = Float(state.steps)
            let c1 = 1 / (1 - powf_(beta1, t)), c2 = 1 / (1 - powf_(beta2, t))
            let b1 = beta1, b2 = beta2, eps = epsilon
            // Elementwise, so split between BLAS's threads for the large slots: the same
            // arithmetic per element whatever the split. squareRoot() vectorises; sqrtf would not.
            state.first.withUnsafeMutableBufferPointer { m in
                state.second.withUnsafeMutableBufferPointer { v in
                    p.withUnsafeMutableBufferPointer { pp in
                        g.withUnsafeBufferPointer { gg in
                            let (mb, vb, pb, gb) = (SharedMutablePointer(base: m.baseAddress!), SharedMutablePointer(base: v.baseAddress!),
                                                    SharedMutablePointer(base: pp.baseAddress!), SharedMutablePointer(base: UnsafeMutablePointer(mutating: gg.baseAddress!)))
                            let n = pp.count
                            let chunk = 1 << 16
                            let chunks = (n + chunk - 1) / chunk
                            ParallelWork.forEach(count: chunks, threads: n >= 2 * chunk ? BLAS.threads : 1) { c in
                                let m = mb.base, v = vb.base, pp = pb.base, gg = gb.base
                                let end = min(n, (c + 1) * chunk)
                                var start = c * chunk
                                // 16 lanes at a time, the same operations in the same order as the
                                // scalar loop below (so the same bits); the compiler does not
                                // vectorise the scalar loop because the pointers might alias.
                                typealias V = SIMD16<Float>
                                let (b1v, b2v, wdv, lrv) = (V(repeating: b1), V(repeating: b2), V(repeating: wd), V(repeating: lr))
                                let (c1v, c2v, epsv) = (V(repeating: c1), V(repeating: c2), V(repeating: eps))
                                let (ob1, ob2) = (V(repeating: 1 - b1), V(repeating: 1 - b2))
                                while start + 16 <= end {
                                    let pv = UnsafeRawPointer(pp + start).loadUnaligned(as: V.self)
                                    let gi = UnsafeRawPointer(gg + start).loadUnaligned(as: V.self) + wdv * pv
                                    let mi = b1v * UnsafeRawPointer(m + start).loadUnaligned(as: V.self) + ob1 * gi
                                    let vi = b2v * UnsafeRawPointer(v + start).loadUnaligned(as: V.self) + ob2 * gi * gi
                                    let step = lrv * (mi * c1v) / ((vi * c2v).squareRoot() + epsv)
                                    UnsafeMutableRawPointer(m + start).storeBytes(of: mi, as: V.self)
                                    UnsafeMutableRawPointer(v + start).storeBytes(of: vi, as: V.self)
                                    UnsafeMutableRawPointer(pp + start).storeBytes(of: pv - step, as: V.self)
                                    start += 16
                                }
                                for i in start..<end {
                                    let gi = gg[i] + wd * pp[i]
                                    m[i] = b1 * m[i] + (1 - b1) * gi
                                    v[i] = b2 * v[i] + (1 - b2) * gi * gi
                                    pp[i] -= lr * (m[i] * c1) / ((v[i] * c2).squareRoot() + eps)
                                }
                            }
                        }
                    }
                }
            }
        case .sgd:
            let mom = momentum
            state.first.withUnsafeMutableBufferPointer { v in
                p.withUnsafeMutableBufferPointer { pp in
                    g.withUnsafeBufferPointer { gg in
                        for i in 0..<pp.count {
                            v[i] = mom * v[i] + gg[i] + wd * pp[i]
                            pp[i] -= lr * v[i]
                        }
                    }
                }
            }
        }
    }
}
