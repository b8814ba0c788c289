import Foundation
import Testing
import DPQEngine
@testable import DPQStorage

/// A collection's stored config.json, written before label smoothing (training) and random erasing
/// (augmentation) existed, still opens: the missing settings read as off. (A data directory of the
/// previous version once failed to start here: "Key 'labelSmoothing' not found".)
@Suite struct CollectionConfigCompatibilityTests {
    static let beforeLabelSmoothing = #"""
{"created_at": 818322350.5686816, "index": {"lists": 0, "partition": "kmeans"}, "keep_vectors": false, "model": {"assignment": "euclidean", "blocks": 4, "class_count": 10, "classifier_input": "feature", "codebook_size": 256, "deviation_floor": 0.1, "dropout": 0, "feature_dimension": 128, "hidden_sizes": [1024, 512], "input_dimension": 784, "input_dropout": 0.2, "label_mode": "single", "metric": "inner_product"}, "name": "fashion", "training": {"batch_size": 256, "codebook_init": "residual_kmeans", "codebook_learning_rate_scale": 1, "epochs": 30, "gamma_end": 10, "gamma_start": 1, "kmeans_iterations": 20, "lambda": 1, "lambda_quantized": 0, "learning_rate": 0.001, "mode": "end_to_end", "momentum": 0.9, "mu": 1, "nu": 0.1, "optimizer": "adam", "pretrain_epochs": 20, "schedule": "cosine", "seed": 1, "stop_gradient_at_feature": false, "tau": 0.005, "weight_decay": 0}}
"""#

    @Test func configsWrittenBeforeNewTrainingSettingsStillDecode() throws {
        let config = try CollectionConfig.decoder.decode(CollectionConfig.self, from: Data(Self.beforeLabelSmoothing.utf8))
        #expect(config.training.labelSmoothing == 0)
        #expect(config.training.augmentation == nil && config.training.epochs == 30 && config.training.tau == 0.005)
        let again = try CollectionConfig.decoder.decode(CollectionConfig.self, from: CollectionConfig.encoder.encode(config))
        #expect(again == config)
        let augmentation = try JSONDecoder().decode(Augmentation.self, from: Data(#"{"cropPadding": 2, "horizontalFlip": true}"#.utf8))
        #expect(augmentation == Augmentation(cropPadding: 2, horizontalFlip: true, erasing: 0))
    }
}
