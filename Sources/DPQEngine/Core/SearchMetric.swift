// How a query is compared with a database item's reconstruction x_hat.
//  - innerProduct: score <q, x_hat>, higher is better (the paper's asymmetric quantizer distance).
//  - squaredL2: ||q - x_hat||^2 = ||q||^2 - 2<q, x_hat> + ||x_hat||^2, lower is better.
//    Codebooks are not orthogonal, so ||x_hat||^2 is not a sum of per-block terms and is
//    stored per item and per prefix length.

public enum SearchMetric: String, Sendable, Codable, CaseIterable {
    case innerProduct = "inner_product"
    case squaredL2 = "squared_l2"

    /// True when a larger score ranks first.
    public var higherIsBetter: Bool { self == .innerProduct }
}
