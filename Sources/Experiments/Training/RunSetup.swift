import Foundation
import Nets

/// Everything one run trains with, built from its resolved config: the model, the loss,
/// the optimiser, the data loaders and the learning-rate schedule.
///
/// Building checks what only becomes checkable here (a freeze name that matches no
/// parameter, a model family not implemented yet) and reports it at the config line
/// that caused it, before any training starts. Validation builds with `skeleton`: the model's
/// structure at its narrowest widths (`ModelFactory.makeModel(_:at:skeleton:)`), so that
/// checking every run of a sweep allocates no network. A cross-validation run finds its fold in
/// `splits`, the experiment folder's `splits.json`.
struct RunSetup {
    let model: any SegmentationModel
    let loss: SegmentationLoss
    /// The config name of each loss term (`ce`, `dice`, `focal`), in `loss.terms` order.
    let lossNames: [String]
    let optimizer: any Optimizer
    let schedule: StagedSchedule
    /// One training loader per stage (stages may change the batch size).
    let trainLoaders: [DataLoader]
    let valLoader: DataLoader?
    /// The parameter-key prefixes each stage freezes.
    let frozenPrefixes: [[String]]

    init(_ run: RunSpec, splits: SplitsStore?, skeleton: Bool = false) throws {
        let config = run.config
        let at = run.locations

        let net = try ModelFactory.makeModel(config, at: at, skeleton: skeleton)
        model = net

        let ignore = Int32(config.data.ignoreIndex)
        (loss, lossNames) = try RunSetup.loss(config, at: at)

        let parameters = net.namedParameters()
        let o = config.optimizer
        do {
            switch o.name {
            case .sgd:
                optimizer = try SGD(parameters, lr: o.lr, momentum: o.momentum, nesterov: o.nesterov,
                                    weightDecay: o.weightDecay)
            case .adam:
                optimizer = try Adam(parameters, lr: o.lr, betas: (o.betas[0], o.betas[1]), eps: o.eps,
                                     weightDecay: o.weightDecay)
            case .adamw:
                optimizer = try AdamW(parameters, lr: o.lr, betas: (o.betas[0], o.betas[1]), eps: o.eps,
                                      weightDecay: o.weightDecay)
            }
        } catch {
            throw at.error("\(error)", at: "optimizer")
        }

        let stages = config.stages.isEmpty
            ? [StageConfig(epochs: config.schedule.epochs, batchSize: config.schedule.batchSize, lr: config.optimizer.lr)]
            : config.stages
        frozenPrefixes = try stages.enumerated().map { i, stage in
            try RunSetup.prefixes(stage.freeze, model: net, at: at, path: "stages.\(i).freeze")
        }
        // DeepLab's image-pooling branch normalises one value per channel and image: with one
        // image per batch its BatchNorm has nothing to normalise (PyTorch raises there too).
        if config.model.isDeepLab, let i = stages.firstIndex(where: { $0.batchSize < 2 }) {
            let path = config.stages.isEmpty ? "schedule.batch_size" : "stages.\(i).batch_size"
            throw at.error("\(config.model.name.rawValue) trains with batch_size >= 2: its ASPP image-pooling BatchNorm sees one value "
                           + "per channel and image, so a batch of 1 cannot be normalised", at: path)
        }

        if let c = config.eval.metric.classIndex, c >= config.data.numClasses {
            throw at.error("eval.metric \(config.eval.metric) names class \(c), but data.num_classes is "
                           + "\(config.data.numClasses) (classes 0-\(config.data.numClasses - 1))", at: "eval.metric")
        }
        let d = config.data
        if let crop = d.crop, min(crop.height, crop.width) < net.minimumInputSide {
            throw at.error("data.crop \(crop.width)x\(crop.height) is smaller than this model's minimum input of "
                           + "\(net.minimumInputSide)x\(net.minimumInputSide); set it to at least \(net.minimumInputSide)",
                           at: "data.crop")
        }
        let (train, val) = try RunSetup.datasets(config, at: at, splits: splits)
        let transform = try TrainTransform(
            scaleRange: d.scale.map { Float($0.lowerBound)...Float($0.upperBound) } ?? 1...1,
            crop: d.crop.map { ImageSize(height: $0.height, width: $0.width) },
            hflip: Float(d.hflip), vflip: Float(d.vflip),
            mean: d.mean.map(Float.init), std: d.std.map(Float.init), ignoreIndex: ignore)
        let seed = UInt64(truncatingIfNeeded: config.seed)
        let cache = RunSetup.cacheFits([(train, stages.count), (val, 1)])
        // drop_last as the recipe's training loader: a last batch of one image would give
        // BatchNorm a batch too small to normalise (the loader never drops the only batch).
        let loaders = try stages.map { stage in
            try DataLoader(dataset: train, transform: .train(transform), seed: seed, batchSize: stage.batchSize,
                           shuffle: true, dropLast: true, cache: cache)
        }
        trainLoaders = loaders
        let evalTransform = try EvalTransform.forModel(config, net)
        valLoader = val.count == 0 ? nil
            : try DataLoader(dataset: val, transform: .eval(evalTransform), seed: seed, batchSize: 1,
                             shuffle: false, dropLast: false, cache: cache)

        let s = config.schedule
        let decay: LearningRateSchedule.Decay
        switch s.decay {
        case .poly: decay = .poly(power: s.power, minLR: s.minLr)
        case .cosine: decay = .cosine(minLR: s.minLr)
        case .step: decay = .step(milestones: s.milestones, gamma: s.gamma)
        case .none: decay = .none
        }
        let warmupShape: LearningRateSchedule.WarmupShape
        switch s.warmup.shape {
        case .constant: warmupShape = .constant
        case .linear: warmupShape = .linear
        case .cosine: warmupShape = .cosine
        }
        do {
            schedule = try StagedSchedule(
                stages: zip(stages, loaders).map { stage, loader in
                    StagedSchedule.Stage(epochs: stage.epochs, stepsPerEpoch: loader.batchCount, baseLR: stage.lr)
                },
                warmupShape: s.warmup.epochs > 0 ? warmupShape : .none, warmupEpochs: Double(s.warmup.epochs),
                warmupFactor: s.warmup.factor, decay: decay)
        } catch {
            throw at.error("\(error)", at: "schedule")
        }
    }

    /// The loss of `config` (its positive-weight terms) and each term's config name.
    static func loss(_ config: ExperimentConfig, at: ConfigLocations) throws -> (SegmentationLoss, [String]) {
        let ignore = Int32(config.data.ignoreIndex)
        var terms: [(weight: Float, term: any LossTerm)] = []
        var names: [String] = []
        if config.loss.ce > 0 {
            terms.append((Float(config.loss.ce),
                          CrossEntropyLoss(classWeights: config.loss.classWeights?.map(Float.init), ignoreIndex: ignore)))
            names.append("ce")
        }
        if config.loss.dice > 0 {
            terms.append((Float(config.loss.dice), DiceLoss(ignoreIndex: ignore)))
            names.append("dice")
        }
        if config.loss.focal > 0 {
            terms.append((Float(config.loss.focal),
                          FocalLoss(gamma: Float(config.loss.focalGamma), alpha: config.loss.focalAlpha?.map(Float.init),
                                    ignoreIndex: ignore)))
            names.append("focal")
        }
        guard !terms.isEmpty else { throw at.error("the loss has no term with a positive weight", at: "loss") }
        return (SegmentationLoss(terms), names)
    }

    /// The seed of the `synthetic` dataset's images (fixed: they are data, not a run's choice).
    static let syntheticDataSeed: UInt64 = 2024

    /// The key prefixes a stage's freeze list names: a model group (`encoder`) or a key prefix.
    static func prefixes(_ names: [String], model: any SegmentationModel, at: ConfigLocations,
                         path: String) throws -> [String] {
        do {
            return try names.flatMap(model.freezePrefixes)
        } catch let error as UnknownFreezeName {
            throw at.error("freeze: \(error)", at: path)
        }
    }

    /// The training and validation datasets of the config; a cross-validation fold is read from
    /// `splits` (drawn in memory where that is nil).
    static func datasets(_ config: ExperimentConfig, at: ConfigLocations,
                         splits: SplitsStore?) throws -> (any Dataset, any Dataset) {
        let d = config.data
        let holdOut = holdOut(d, splits: splits)
        switch d.dataset {
        case .synthetic:
            guard config.model.inChannels == 3 else {
                throw at.error("the synthetic fundus images are RGB, so model.in_channels must be 3, "
                               + "got \(config.model.inChannels)", at: "model.in_channels")
            }
            let s = d.synthetic ?? SyntheticDataConfig()
            do {
                // The images are the dataset, not a random choice of the run: a seed sweep must train
                // every seed on the same data, so the generator has its own fixed seed.
                let generator = try SyntheticFundus(size: s.size, seed: RunSetup.syntheticDataSeed,
                                                    vesselDensity: Float(s.vesselDensity), noiseLevel: Float(s.noise),
                                                    lesions: s.lesions)
                let split = try SyntheticDataset.split(generator, trainCount: s.count, valCount: s.valCount,
                                                       ignoreIndex: Int32(d.ignoreIndex))
                return try split.train.split(holdOut) { split.val }
            } catch let error as SplitsError {
                throw at.error(error.description, at: error.configPath)
            } catch {
                throw at.error("\(error)", at: "data.synthetic")
            }
        case .drive, .hrf, .chaseDB1, .stare, .cityscapes, .ade20k:
            if d.labelMap != nil || d.palette != nil {
                let key = d.labelMap != nil ? "label_map" : "palette"
                let own = d.dataset.vesselBenchmark != nil ? "its vessel and field-of-view masks" : "the benchmark's own label ids"
                throw at.error("data.\(key) does not apply to the \(d.dataset.rawValue) dataset, whose labels are built from "
                               + own, at: "data.\(key)")
            }
            let channels = config.model.inChannels, ignore = Int32(d.ignoreIndex)
            return try located(at) { () throws -> (any Dataset, any Dataset) in
                if let benchmark = d.dataset.vesselBenchmark {
                    return try benchmark.splits(root: d.root, channels: channels, ignoreIndex: ignore, holdOut: holdOut)
                }
                return d.dataset == .cityscapes
                    ? try CityscapesDataset.splits(root: d.root, ignoreIndex: ignore, channels: channels, holdOut: holdOut)
                    : try ADE20KDataset.splits(root: d.root, ignoreIndex: ignore, channels: channels, holdOut: holdOut)
            }
        case .folder, .voc:
            let rules = LabelRules(numClasses: d.numClasses, ignoreIndex: Int32(d.ignoreIndex), labelMap: d.labelMap,
                                   palette: d.palette?.map { $0.map(UInt8.init) })
            return try located(at) {
                let (train, val) = d.dataset == .folder
                    ? try FolderDataset.splits(root: d.root, layout: d.folder, rules: rules, channels: config.model.inChannels,
                                               holdOut: holdOut)
                    : try VOCDataset.splits(root: d.root, year: d.year, rules: rules, channels: config.model.inChannels,
                                            holdOut: holdOut)
                // A few masks of both splits read now catch 0/255 masks and wrong class counts before
                // training; the rest are checked as their samples are read.
                try ImageMaskDataset(entries: train.entries + val.entries, channels: train.channels, rules: rules,
                                     root: d.root).validateLabels(limit: 32)
                return (train, val)
            }
        }
    }

    /// Where validation images come from when they are held out of the training images.
    static func holdOut(_ d: DataConfig, splits: SplitsStore?) -> HoldOut? {
        if let fraction = d.valFraction { return .fraction(fraction) }
        guard let folds = d.folds, let fold = d.fold else { return nil }
        return .fold(CrossValidationFold(folds: folds, fold: fold, seed: d.splitSeed, userFile: d.splits, store: splits))
    }

    /// `body`'s result, with a data problem reported at the config setting that fixes it.
    static func located<T>(_ at: ConfigLocations, _ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as LabelError {
            throw at.error(error.description, at: error.configPath)
        } catch let error as SplitsError {
            throw at.error(error.description, at: error.configPath)
        } catch let error as DataPipelineError {
            throw at.error(error.description, at: "data.root")
        }
    }

    /// Whether decoded samples of `datasets` (each kept `copies` times: one cache per loader)
    /// fit in 1 GiB, estimated from each dataset's first sample: DRIVE (about 210 MB) does, VOC (9 GB) not.
    static func cacheFits(_ datasets: [(dataset: any Dataset, copies: Int)]) -> Bool {
        var bytes = 0
        for (dataset, copies) in datasets where dataset.count > 0 {
            // An unreadable first file is the data check's to report, with all the others.
            guard let first = try? dataset.sample(0) else { return false }
            bytes += copies * dataset.count * (first.image.count + first.label.count) * MemoryLayout<Float>.size
        }
        return bytes <= 1 << 30
    }
}
