import Testing
import DPQEngine

// The trunk spec grammar: what parses, what each token means, and the errors for what does not
// parse or does not fit, each naming the layer at fault.
@Suite struct TrunkSpecTests {
    static let image = TensorShape(height: 28, width: 28, channels: 1)

    @Test func parsesEveryLayerKind() throws {
        let spec = try TrunkSpec(parsing: "conv3x3-32, conv5x3-8/s2/p0,bn,relu,maxpool2,avgpool3/s2/p1,maxpool3/p1,gap,flatten,dropout,dropout-0.25,dense-64")
        #expect(spec.layers == [
            .conv(kernelHeight: 3, kernelWidth: 3, channels: 32, stride: 1, padding: nil),
            .conv(kernelHeight: 5, kernelWidth: 3, channels: 8, stride: 2, padding: 0),
            .batchNorm, .relu,
            .maxPool(kernel: 2, stride: nil, padding: 0),
            .avgPool(kernel: 3, stride: 2, padding: 1),
            .maxPool(kernel: 3, stride: nil, padding: 1),
            .globalAvgPool, .flatten, .dropout(rate: 0.5), .dropout(rate: 0.25), .dense(outputs: 64),
        ])
        // The canonical form spells the defaults out and parses back to the same layers' behaviour.
        #expect(spec.description.hasPrefix("conv3x3-32/s1/p1,conv5x3-8/s2/p0,bn,relu,maxpool2/s2/p0,avgpool3/s2/p1,maxpool3/s3/p1,gap"))
        // A square kernel may be written with one size.
        #expect(try TrunkSpec(parsing: "conv3-8").layers == TrunkSpec(parsing: "conv3x3-8").layers)
        let again = try TrunkSpec(parsing: spec.description)
        #expect(again.description == spec.description)
    }

    @Test func shapesOfThePreset() throws {
        #expect(try TrunkSpec(parsing: TrunkSpec.presets["cnn"]!).shapes(input: Self.image).last == TensorShape(flat: 3136))
        let spec = try TrunkSpec(parsing: TrunkSpec.presets["vgg4"]!)
        let shapes = try spec.shapes(input: Self.image)
        #expect(shapes.map(\.description) == ["28x28x32", "28x28x32", "28x28x32", "28x28x32", "28x28x32", "28x28x32",
                                               "14x14x32", "14x14x64", "14x14x64", "14x14x64", "14x14x64", "14x14x64",
                                               "14x14x64", "7x7x64", "64"])
        let s = try TrunkSpec(parsing: "conv3x3-4/s2/p0,maxpool3/s2/p1,flatten,dense-10").shapes(input: TensorShape(height: 9, width: 8, channels: 3))
        #expect(s.map(\.description) == ["4x3x4", "2x2x4", "16", "10"])
        #expect(throws: EngineError.invalidArgument("trunk: layer 0 'conv3x3-4096/s1/p1': its output 128x128x4096 has 67108864 values per item, more than 16777216")) {
            try TrunkSpec(parsing: "conv3x3-4096,gap").shapes(input: TensorShape(height: 128, width: 128, channels: 1))
        }
    }

    @Test(arguments: [
        ("", "trunk: the spec is empty"),
        ("conv3x3x3-32", "layer 0 'conv3x3x3-32': expected conv<K>[x<K>]-<channels>"),
        ("conv3x3", "layer 0 'conv3x3': expected conv<K>[x<K>]-<channels>"),
        ("relu,conv3x3-0", "layer 1 'conv3x3-0': the channel count must be an integer in 1...4096, got '0'"),
        ("conv3x3-8/q2", "layer 0 'conv3x3-8/q2': unknown option '/q2'"),
        ("conv3x3-8/s2/s1", "unknown option '/s1'"),
        ("conv3x3-8/p3", "padding 3 must be smaller than the kernel"),
        ("maxpool2/p2", "layer 0 'maxpool2/p2': padding 2 must be at most half the window (1)"),
        ("maxpoolx", "the window size must be an integer"),
        ("bn,relu,,gap", "layer 2 '': unknown layer"),
        ("batchnorm", "layer 0 'batchnorm': unknown layer"),
        ("dropout-1", "layer 0 'dropout-1': the rate must be a number in [0, 1)"),
        ("dense-0", "the output count must be an integer in 1...65536"),
    ])
    func badSpecsNameTheToken(spec: String, message: String) {
        do {
            _ = try TrunkSpec(parsing: spec)
            Issue.record("'\(spec)' parsed")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    @Test(arguments: [
        ("conv3x3-8,dense-10", "layer 1 'dense-10': needs a flat input, got 28x28x8; put flatten or gap before it"),
        ("conv3x3-8,bn,relu", "ends with a 28x28x8 output; end it with gap"),
        ("maxpool2,maxpool2,maxpool2,maxpool2,maxpool2,gap", "layer 4 'maxpool2/s2/p0': a 2x2 window with padding 0 does not fit the 1x1x1 input"),
        ("conv7x7-4/p0,conv7x7-4/p0,conv7x7-4/p0,conv7x7-4/p0,conv7x7-4/p0,gap", "layer 4 'conv7x7-4/s1/p0': a 7x7 window"),
    ])
    func shapeErrorsNameTheLayer(spec: String, message: String) throws {
        let parsed = try TrunkSpec(parsing: spec)
        do {
            _ = try parsed.shapes(input: Self.image)
            Issue.record("'\(spec)' fits")
        } catch {
            #expect("\(error)".contains(message), "\(error)")
        }
    }

    /// A model configuration reports trunk and input-shape problems before anything is built.
    @Test func modelConfigChecksTheTrunk() {
        var c = ModelConfig(inputDimension: 784, classCount: 10)
        c.trunk = "conv3x3-8/p0,relu,gap"
        // Without an input shape the 784 values are one 1 x 1 x 784 item: no 3x3 window fits.
        #expect(c.problems() == ["trunk: layer 0 'conv3x3-8/s1/p0': a 3x3 window with padding 0 does not fit the 1x1x784 input"])
        c.inputShape = Self.image
        #expect(c.problems().isEmpty)
        c.inputShape = TensorShape(height: 28, width: 27, channels: 1)
        #expect(c.problems().contains("input_shape 28x27x1 has 756 values, input_dimension is 784"))
        c.inputShape = Self.image
        c.trunk = "conv3x3-8,relu"
        #expect(c.problems().contains { $0.contains("trunk: it ends with a 28x28x8 output") })
    }

    /// The hidden-sizes MLP is the layer list dense, relu[, dropout] per hidden size, and keeps
    /// the names its model files always had (trunk.<dense index>).
    @Test func hiddenSizesAreALayerList() {
        #expect(TrunkSpec.mlp(hiddenSizes: [1024, 512], dropout: 0.2).description == "dense-1024,relu,dropout-0.2,dense-512,relu,dropout-0.2")
        #expect(TrunkSpec.mlp(hiddenSizes: [64], dropout: 0).description == "dense-64,relu")
        var r = SeededRandom(seed: 1)
        let mlp = FeatureNetwork(config: ModelConfig(inputDimension: 6, hiddenSizes: [5, 4], featureDimension: 3, dropout: 0.1, classCount: 2), random: &r)
        #expect(mlp.parameterNames == ["trunk.0.weight", "trunk.0.bias", "trunk.1.weight", "trunk.1.bias",
                                       "feature.weight", "feature.bias", "classifier.weight", "classifier.bias"])
        var config = ModelConfig(inputDimension: 16, featureDimension: 3, classCount: 2)
        config.inputShape = TensorShape(height: 4, width: 4, channels: 1)
        config.trunk = "conv3x3-2,bn,relu,gap"
        let cnn = FeatureNetwork(config: config, random: &r)
        #expect(cnn.namedTensors.map(\.name) == ["trunk.0.weight", "trunk.0.bias", "trunk.1.weight", "trunk.1.bias",
                                                 "trunk.1.running_mean", "trunk.1.running_var",
                                                 "feature.weight", "feature.bias", "classifier.weight", "classifier.bias"])
        #expect(cnn.parameterNames.count == 8)
    }
}
