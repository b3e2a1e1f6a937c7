import Foundation
import Nets

/// Image files with a class-id mask file each, decoded when a sample is read: what the
/// `folder` and `voc` layouts become once their files are paired.
///
/// A mask stores one value per pixel (palette indices, or gray values) that `rules` turn into
/// class ids, so a value that is no class id fails when its sample is read, with the file's
/// name; `validateLabels` checks masks ahead of training.
public struct ImageMaskDataset: FileDataset, SplittableDataset {
    /// One sample's files; `name` is the image's stem, used for prediction files and messages.
    public struct Entry: Sendable, Equatable {
        public let name: String
        public let image: String
        public let mask: String

        public init(name: String, image: String, mask: String) {
            self.name = name
            self.image = image
            self.mask = mask
        }
    }

    public let entries: [Entry]
    /// Channels of the images as the model reads them (see `Sample.colorModel(channels:)`).
    public let channels: Int
    public let rules: LabelRules
    /// The dataset's folder, for messages about the masks as a whole.
    public let root: String

    /// Throws when images cannot be read with `channels` channels.
    public init(entries: [Entry], channels: Int, rules: LabelRules, root: String) throws {
        _ = try Sample.colorModel(channels: channels)
        self.init(checked: entries, channels: channels, rules: rules, root: root)
    }

    private init(checked entries: [Entry], channels: Int, rules: LabelRules, root: String) {
        self.entries = entries
        self.channels = channels
        self.rules = rules
        self.root = root
    }

    public var count: Int { entries.count }

    public func files(of index: Int) -> [String] { [entries[index].image, entries[index].mask] }

    public func sample(_ index: Int) throws -> Sample {
        precondition(index >= 0 && index < count, "sample \(index) of \(count)")
        let entry = entries[index]
        let image = try ImageCodec.read(entry.image)
        let mask = try ImageCodec.read(entry.mask)
        guard mask.width == image.width && mask.height == image.height else {
            throw DataPipelineError("\(entry.mask): the mask is \(mask.width)x\(mask.height) but its image "
                                    + "\(entry.image) is \(image.width)x\(image.height)")
        }
        return try Sample(image: image, channels: channels, label: rules.classIds(mask, file: entry.mask),
                          name: entry.name, file: entry.image)
    }

    public var sampleNames: [String] { entries.map(\.name) }

    /// The entries `indices`, same settings.
    public func subset(_ indices: [Int]) -> ImageMaskDataset {
        ImageMaskDataset(checked: indices.map { entries[$0] }, channels: channels, rules: rules, root: root)
    }

    /// Reads up to `limit` masks (evenly spread over the dataset; nil reads all) and throws
    /// what no single mask shows: masks holding only 0 and 255 (binary masks whose foreground
    /// 255 would be ignored). Only masks are decoded, on all threads; the runner checks 32 before
    /// training. A mask that does not decode or holds no class ids is passed over here: the data
    /// check (`DataCheck`) reports every such file.
    public func validateLabels(limit: Int? = nil) throws {
        let n = min(count, limit ?? count)
        guard n > 0 else { return }
        let picks = (0..<n).map { $0 * count / n }
        var results = [(foreground: Bool, storedIgnore: Bool)](repeating: (false, false), count: n)
        let rules = self.rules, entries = self.entries
        results.withUnsafeMutableBufferPointer { buffer in
            let out = buffer.baseAddress!
            parallelFor(n) { k in
                let path = entries[picks[k]].mask
                guard let mask = try? ImageCodec.read(path), let stored = try? rules.storedValues(mask, file: path),
                      let ids = try? rules.classIds(stored: stored, width: mask.width, file: path) else { return }
                for i in 0..<ids.count {
                    if ids[i] > 0 && ids[i] != rules.ignoreIndex { out[k].foreground = true }
                    if ids[i] == rules.ignoreIndex && stored[i] == 255 { out[k].storedIgnore = true }
                }
            }
        }
        let foreground = results.contains { $0.foreground }, storedIgnore = results.contains { $0.storedIgnore }
        try rules.checkForeground(foreground: foreground, storedIgnore: storedIgnore, checked: n, root: root)
    }
}
