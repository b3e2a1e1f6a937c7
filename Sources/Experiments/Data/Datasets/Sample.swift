/// Height and width of an image or label map in pixels.
public struct ImageSize: Hashable, Sendable, CustomStringConvertible {
    public var height: Int
    public var width: Int

    public init(height: Int, width: Int) {
        self.height = height
        self.width = width
    }

    public var description: String { "\(width)x\(height)" }
}

/// A problem with the data itself (a sample that does not fit the pipeline's settings), as a one-line message.
public struct DataPipelineError: Error, CustomStringConvertible, Equatable {
    public let description: String

    public init(_ description: String) { self.description = description }
}

/// One training or evaluation example: an image, its per-pixel class ids and an optional name.
///
/// The image is Float32, interleaved HWC (the channels of a pixel are adjacent), so a sample copies
/// straight into one item of an NHWC batch tensor. Decoded 8-bit pixels are stored as value/255.
/// Label pixels equal to the pipeline's ignore index (255 by convention) take no part in losses or metrics.
public struct Sample: Sendable, Equatable {
    public var height: Int
    public var width: Int
    public var channels: Int
    /// `height * width * channels` values, row-major HWC.
    public var image: [Float]
    /// `height * width` class ids, row-major.
    public var label: [Int32]
    /// The file stem (or generated name), for error messages and prediction files.
    public var name: String?

    public init(height: Int, width: Int, channels: Int, image: [Float], label: [Int32], name: String? = nil) {
        precondition(height > 0 && width > 0 && channels > 0, "sample size \(width)x\(height)x\(channels)")
        precondition(image.count == height * width * channels, "\(image.count) image values for \(width)x\(height)x\(channels)")
        precondition(label.count == height * width, "\(label.count) labels for \(width)x\(height)")
        self.height = height
        self.width = width
        self.channels = channels
        self.image = image
        self.label = label
        self.name = name
    }

    /// A sample from 8-bit interleaved pixels, scaled to [0, 1] as torchvision's `ToTensor` does.
    public init(height: Int, width: Int, channels: Int, bytes: [UInt8], label: [Int32], name: String? = nil) {
        precondition(bytes.count == height * width * channels, "\(bytes.count) bytes for \(width)x\(height)x\(channels)")
        // Divide (not multiply by 1/255) so values equal PyTorch's `x.float() / 255` bit for bit.
        self.init(height: height, width: width, channels: channels,
                  image: bytes.map { Float($0) / 255 }, label: label, name: name)
    }

    public var size: ImageSize { ImageSize(height: height, width: width) }

    /// The name for messages: the file stem, or the dataset index when there is none.
    func displayName(index: Int) -> String { name ?? "sample \(index)" }
}

/// A source of samples that the loader can read by index from any thread.
///
/// `sample(_:)` decodes (or generates) one example; it throws for a corrupt or inconsistent file
/// with a message naming it. Implementations: `SyntheticDataset`, and the file-based datasets.
public protocol Dataset: Sendable {
    var count: Int { get }
    func sample(_ index: Int) throws -> Sample
}

/// A dataset read from files: the files each sample is decoded from, its image first.
public protocol FileDataset: Dataset {
    func files(of index: Int) -> [String]
}

/// A dataset whose ignored pixels are exactly those outside the field-of-view mask distributed
/// with each image (DRIVE's `mask/`), so that predictions of its images can be blanked there,
/// as the DRIVE recipe's predict.py does.
public protocol FieldOfViewDataset: Dataset {}
