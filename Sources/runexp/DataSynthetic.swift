import ArgumentParser
import Experiments
import Foundation
import Nets

/// `runexp data synthetic`: writes the built-in synthetic fundus set as files.
struct DataSynthetic: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "synthetic",
        abstract: "Write the synthetic fundus dataset to disk in the `folder` layout.",
        discussion: """
            Writes OUT/images/synthetic_0000.png (RGB) and OUT/masks/synthetic_0000.png, a palette PNG \
            of class ids (0 background, 1 vessel, the ignore index outside the field of view), \
            readable with `dataset: folder`. With the default seed these are exactly the images \
            `dataset: synthetic` trains on: a config's training images are 0..<count and its \
            validation images follow, so --count must cover count + val_count, and --size and the \
            other options must match data.synthetic.

            Example:
              runexp data synthetic --out data/synthetic --size 128 --count 20
            """)

    @Option(help: ArgumentHelp("Output folder (images/ and masks/ are created in it).", valueName: "dir"))
    var out: String
    @Option(help: "Image side in pixels (64...4096).") var size = SyntheticDataConfig().size
    @Option(help: "Number of images (samples 0..<count).") var count = SyntheticDataConfig().count + SyntheticDataConfig().valCount
    @Option(help: "Generator seed; the default is the one `dataset: synthetic` uses.") var seed = SyntheticDataset.configSeed
    @Option(help: "Vessel density multiplier (0.25...4).") var vesselDensity = SyntheticDataConfig().vesselDensity
    @Option(help: "Noise level multiplier (0...10).") var noise = SyntheticDataConfig().noise
    @Flag(help: "Add distractor lesions (dark and bright spots).") var lesions = SyntheticDataConfig().lesions
    @Option(help: "Mask value outside the field of view.") var ignoreIndex = 255

    func validate() throws {
        guard count >= 1 else { throw ValidationError("--count must be at least 1") }
        guard (2...255).contains(ignoreIndex) else { throw ValidationError("--ignore-index must be in 2...255") }
    }

    func run() throws {
        let generator: SyntheticFundus
        do {
            generator = try SyntheticFundus(size: size, seed: seed, vesselDensity: Float(vesselDensity),
                                            noiseLevel: Float(noise), lesions: lesions)
        } catch {
            throw ValidationError("\(error)")
        }
        do {
            try SyntheticDataset.export(generator, indices: 0..<count, to: out, ignoreIndex: Int32(ignoreIndex))
        } catch {
            CommandErrors.print("\(error)")
            throw ExitCode(1)
        }
        print("wrote \(count) image\(count == 1 ? "" : "s") of \(size)x\(size) to \(out)/images and masks to \(out)/masks")
    }
}
