// Where a collection is in its life: no model yet, a training running, a model serving, or
// the last training failed (last_error says why). Stored in the meta table so it survives
// restarts; a `training` found at start-up is a training that the restart killed.

public enum CollectionState: String, Sendable, Codable, CaseIterable {
    case untrained
    case training
    case ready
    case failed
}
