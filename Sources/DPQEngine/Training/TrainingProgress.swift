// What training reports after every step, for progress bars and the service's stream.

public struct TrainingProgress: Sendable, Codable, Equatable {
    public var phase: TrainingPhase
    /// 1-based epoch within the phase, and the phase's epoch count.
    public var epoch: Int
    public var epochs: Int
    /// Steps done over the whole training, and their total.
    public var step: Int
    public var totalSteps: Int
    /// Running mean of each term over the current epoch.
    public var losses: LossTerms
    public var samplesPerSecond: Double
    public var elapsedSeconds: Double
    public var etaSeconds: Double

    public var fraction: Double { totalSteps > 0 ? Double(step) / Double(totalSteps) : 1 }
}

/// Called after every step; return false to cancel (training then throws EngineError.cancelled).
public typealias ProgressHandler = (TrainingProgress) -> Bool
