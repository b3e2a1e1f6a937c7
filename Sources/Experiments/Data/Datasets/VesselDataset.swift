import Foundation

/// A retinal-vessel benchmark (DRIVE, HRF, CHASE_DB1, STARE) once its files are paired: each
/// image with its first observer's vessel annotation, its field-of-view mask (or none, where
/// the benchmark distributes none and the field of view is derived from the image) and the
/// second observer's annotation where there is one.
///
/// Labels follow the PyTorch DRIVE recipe (WZMIAOMIAO's `DriveDataset`): `manual / 255 +
/// (255 - fov)` clipped to 255, so a vessel pixel is 1, background 0, and every pixel outside
/// the field of view is the ignore index — a vessel pixel outside it too. The recipe's
/// arithmetic only makes sense for 0/255 files, which the benchmarks' are; here a pixel is
/// vessel when the annotation's gray value is at least 128 and inside the field of view when
/// the mask's is, which gives the same labels on them and no nonsense class ids on a re-saved,
/// blurred copy.
public struct VesselDataset: FieldOfViewDataset, FileDataset, SplittableDataset {
    /// One image's files; `name` is the image's stem (`21_training`, `Image_01L`).
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let image: String
        public let manual: String
        /// The field-of-view mask; nil: derived from the image (`FieldOfView.derived`).
        public let fov: String?
        /// Where the second observer's annotation is, or would be (it may be absent); nil: the
        /// benchmark has no second observer.
        public let secondManual: String?

        public init(name: String, image: String, manual: String, fov: String?, secondManual: String?) {
            self.name = name
            self.image = image
            self.manual = manual
            self.fov = fov
            self.secondManual = secondManual
        }
    }

    public let entries: [Entry]
    /// Channels of the images as the model reads them (3: RGB).
    public let channels: Int
    /// The label of pixels outside the field of view.
    public let ignoreIndex: Int32
    /// What the benchmark distributes as second annotations, for the error when one is missing
    /// (`DRIVE distributes 2nd_manual/ for the test images only`).
    public let secondObserverNote: String

    public init(entries: [Entry], channels: Int, ignoreIndex: Int32, secondObserverNote: String) throws {
        _ = try Sample.colorModel(channels: channels)
        self.init(checked: entries, channels: channels, ignoreIndex: ignoreIndex, secondObserverNote: secondObserverNote)
    }

    private init(checked entries: [Entry], channels: Int, ignoreIndex: Int32, secondObserverNote: String) {
        self.entries = entries
        self.channels = channels
        self.ignoreIndex = ignoreIndex
        self.secondObserverNote = secondObserverNote
    }

    /// The entries `indices`, same settings.
    public func subset(_ indices: [Int]) -> VesselDataset {
        VesselDataset(checked: indices.map { entries[$0] }, channels: channels, ignoreIndex: ignoreIndex,
                      secondObserverNote: secondObserverNote)
    }

    public var count: Int { entries.count }

    public var sampleNames: [String] { entries.map(\.name) }

    /// The same images with the second observer's annotations as their labels, for scoring
    /// against them; throws one error listing every image without one.
    public func secondObserver() throws -> VesselDataset {
        var problems: [String] = []
        let second = entries.map { entry -> Entry in
            guard let manual = entry.secondManual, DataFiles.isFile(manual) else {
                problems.append(entry.secondManual ?? entry.name)
                return entry
            }
            return Entry(name: entry.name, image: entry.image, manual: manual, fov: entry.fov, secondManual: nil)
        }
        guard problems.isEmpty else {
            throw DataPipelineError("no second observer's annotation: " + DataFiles.listing(problems, separator: ", ")
                                    + " (\(secondObserverNote))")
        }
        return VesselDataset(checked: second, channels: channels, ignoreIndex: ignoreIndex,
                             secondObserverNote: secondObserverNote)
    }

    /// The image, its annotation and its field-of-view mask (the second observer is not training data).
    public func files(of index: Int) -> [String] {
        let e = entries[index]
        return [e.image, e.manual] + (e.fov.map { [$0] } ?? [])
    }

    public func sample(_ index: Int) throws -> Sample {
        precondition(index >= 0 && index < count, "vessel sample \(index) of \(count)")
        let entry = entries[index]
        let image = try ImageCodec.read(entry.image)
        // DRIVE's GIFs are palette images; their colours (0/255), not their indices, are the values.
        let manual = try ImageCodec.read(entry.manual).converted(to: .gray)
        let inside: [Bool]
        if let path = entry.fov {
            let fov = try ImageCodec.read(path).converted(to: .gray)
            try Self.checkSize(fov, path, of: image, entry.image)
            inside = fov.samples.map { $0 >= 128 }
        } else {
            inside = FieldOfView.derived(from: image)
        }
        try Self.checkSize(manual, entry.manual, of: image, entry.image)
        var label = [Int32](repeating: ignoreIndex, count: image.width * image.height)
        manual.samples.withUnsafeBufferPointer { m in
            for i in 0..<label.count where inside[i] { label[i] = m[i] >= 128 ? 1 : 0 }
        }
        return try Sample(image: image, channels: channels, label: label, name: entry.name, file: entry.image)
    }

    private static func checkSize(_ other: Image, _ file: String, of image: Image, _ imageFile: String) throws {
        guard other.width != image.width || other.height != image.height else { return }
        throw DataPipelineError("\(file) is \(other.width)x\(other.height) but its image \(imageFile) "
                                + "is \(image.width)x\(image.height)")
    }
}
