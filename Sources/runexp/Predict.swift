import ArgumentParser
import Experiments
import Foundation
import Nets

/// `runexp predict`: segments image files with a trained run's checkpoint.
struct Predict: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Segment images with a trained checkpoint; writes class-id and overlay PNGs.",
        discussion: """
            For each image, writes OUT/<stem>.png, a palette PNG whose pixel values are the class ids \
            (shown in the VOC colours), and OUT/<stem>_overlay.png, the prediction over the image; \
            with --probabilities (two-class models) also OUT/<stem>_prob.png, the foreground \
            probability as 16-bit gray (value = round(p × 65535)). With --mask, pixels outside the \
            field of view (where the mask is black) are background, probability 0, as the DRIVE \
            recipe's predict.py blanks them. \
            Several checkpoints (--checkpoint A B C, .safetensors files) segment as an ensemble: each \
            runs with its own run's config, their class probabilities are averaged and the \
            prediction is the mean's argmax (--probabilities writes the mean foreground probability), \
            as nnU-Net ensembles its cross-validation folds; their classes must agree. \
            --split val (or train) segments the images of that split of the run's data instead of \
            files, named by their stems; a dataset distributed with field-of-view masks (DRIVE) is \
            blanked outside them. \
            The model and its normalisation come from the run's config.yaml, looked for two folders \
            above the checkpoint unless --config names it. Images are segmented as in evaluation: \
            whole, or in tiles and with test-time flips as the config's eval.mode and eval.tta say \
            (--set eval.mode=slide --set eval.crop=64 changes that). An image that cannot be read is \
            reported and skipped, and the exit status is then 1; config errors exit with status 2.

            Examples:
              runexp predict --out predictions fundus1.png fundus2.jpg \\
                --checkpoint results/quickstart/run@1a2b3c4d/checkpoints/best.safetensors
              runexp predict --out predictions --split val --set data.root=/data/DRIVE \\
                --checkpoint results/drive_unet/run@91148df8/checkpoints/best.safetensors
              runexp predict --out ensemble --split test --set data.root=/data/DRIVE \\
                --checkpoint results/drive_unet_cv/fold=*/checkpoints/best.safetensors
            """)

    @Option(parsing: .upToNextOption,
            help: ArgumentHelp("The model weights, e.g. RUN_DIR/checkpoints/best.safetensors; several (.safetensors "
                               + "files) predict as an ensemble.", valueName: "file"))
    var checkpoint: [String]
    @Option(help: ArgumentHelp("The run's config (default: RUN_DIR/config.yaml, two folders above --checkpoint).",
                               valueName: "file"))
    var config: String?
    @Option(help: ArgumentHelp("Folder for the PNGs (created when missing).", valueName: "dir")) var out: String
    @Option(help: "Threads (default: the config's `threads`, else OMP_NUM_THREADS, else all cores).") var threads: Int?
    @Option(help: ArgumentHelp("A field-of-view mask (nonzero inside): one for every image, or one per image "
                               + "in their order.", valueName: "file"))
    var mask: [String] = []
    @Flag(help: "Also write the foreground probability as a 16-bit PNG (two-class models).") var probabilities = false
    @Option(help: ArgumentHelp("Segment this split of the run's data (val, train or test) instead of image files.",
                               valueName: "split"))
    var split: Evaluation.Split?
    @Option(help: ArgumentHelp("A setting of the config to change, e.g. eval.mode=slide (repeatable).",
                               valueName: "key=value"))
    var set: [String] = []
    @Argument(help: ArgumentHelp("Images to segment (PNG, JPEG, TIFF, GIF).", valueName: "image")) var images: [String] = []

    mutating func validate() throws {
        let (checkpoints, leadingImages) = CheckpointRun.separating(checkpoint)
        checkpoint = checkpoints
        images = leadingImages + images
        if checkpoint.count > 1 && config != nil {
            throw ValidationError("--config names one run's config; with several checkpoints each is read from its own run folder")
        }
        if let threads, threads < 1 { throw ValidationError("--threads must be at least 1") }
        if (split == nil) == images.isEmpty { throw ValidationError("give image files or --split (one of them)") }
        if split != nil && !mask.isEmpty { throw ValidationError("--mask is for image files; a split's own masks are used") }
        if mask.count > 1 && mask.count != images.count {
            throw ValidationError("--mask: give one mask for all images or one per image (\(images.count)), not \(mask.count)")
        }
    }

    func run() throws {
        // The data folder of the training machine need not exist where files are predicted.
        let (source, predictor) = try CheckpointRun.ensemble(checkpoint, config: config, overrides: set,
                                                             checkPaths: split != nil, threads: threads)
        let run = source.run
        if probabilities && run.config.data.numClasses != 2 {
            CommandErrors.print("--probabilities writes the foreground probability of a two-class model; "
                                + "this one has \(run.config.data.numClasses) classes")
            throw ExitCode(2)
        }
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
        } catch {
            CommandErrors.print("\(out): cannot create the output folder: \(error.localizedDescription)")
            throw ExitCode(1)
        }

        var written: [String: String] = [:]  // output stem → input, to catch two inputs with one stem
        var failed = 0
        let ignore = Int32(run.config.data.ignoreIndex)
        // What is segmented: a name for messages, and how to get its prediction and output stem.
        var inputs: [(name: String, predict: () throws -> (Prediction, stem: String))] = []
        if let split {
            let dataset = try source.loading { try Evaluation.dataset(run.config, at: run.locations, split: split, splits: source.splits) }
            for i in 0..<dataset.count {
                inputs.append((name: "\(split.rawValue) image \(i)", predict: {
                    let sample = try dataset.sample(i)
                    var prediction = try predictor.predict(sample)
                    if dataset is any FieldOfViewDataset { prediction.blank(outside: sample.label.map { $0 != ignore }) }
                    return (prediction, sample.name ?? "\(split.rawValue)_\(i)")
                }))
            }
        } else {
            for (i, path) in images.enumerated() {
                inputs.append((name: path, predict: {
                    var prediction = try predictor.predict(file: path)
                    if !mask.isEmpty {
                        prediction.blank(outside: try fieldOfView(mask.count == 1 ? mask[0] : mask[i], for: prediction, of: path))
                    }
                    return (prediction, URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent)
                }))
            }
        }
        for input in inputs {
            do {
                let (prediction, stem) = try input.predict()
                if let other = written[stem] {
                    throw ImageError(input.name, "its outputs would overwrite those of \(other) (same name '\(stem)'); rename one")
                }
                var outputs = ["\(out)/\(stem).png", "\(out)/\(stem)_overlay.png"]
                try ImageCodec.writePNG(PredictionImages.classImage(prediction.classes), to: outputs[0])
                try ImageCodec.writePNG(PredictionImages.overlay(prediction.image, classes: prediction.classes,
                                                                 ignoreIndex: ignore),
                                        to: outputs[1])
                if probabilities, let foreground = prediction.foreground {
                    outputs.append("\(out)/\(stem)_prob.png")
                    try ImageCodec.writePNG(PredictionImages.probabilityImage(foreground, width: prediction.image.width,
                                                                              height: prediction.image.height),
                                            to: outputs[2])
                }
                written[stem] = input.name
                print("\(input.name) → \(outputs.joined(separator: ", "))")
            } catch let error as ImageError {
                CommandErrors.print("\(error)")  // already starts with the file's path
                failed += 1
            } catch {
                CommandErrors.print("\(input.name): \(error)")
                failed += 1
            }
        }
        if failed > 0 {
            CommandErrors.print("\(failed) of \(inputs.count) image\(inputs.count == 1 ? "" : "s") failed")
            throw ExitCode(1)
        }
    }

    /// The pixels of `path`'s field-of-view mask that are inside (nonzero once converted to gray).
    private func fieldOfView(_ path: String, for prediction: Prediction, of image: String) throws -> [Bool] {
        let fov = try ImageCodec.read(path).converted(to: .gray)
        guard fov.width == prediction.image.width && fov.height == prediction.image.height else {
            throw ImageError(path, "the mask is \(fov.width)x\(fov.height) but \(image) is "
                             + "\(prediction.image.width)x\(prediction.image.height)")
        }
        return fov.samples.map { $0 != 0 }
    }
}
