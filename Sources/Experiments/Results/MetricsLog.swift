import Foundation
import Nets

/// A run's `metrics.jsonl`: one JSON object per epoch, appended and fsynced line by line, so a
/// kill loses at most the line being written.
///
/// A line holds, in this order: `epoch`, `train_loss`, `losses` (per term, by name), `lr`; then
/// for an evaluated epoch `dice` (per-image mean), `dice_recipe` (the recipe's batch-averaged
/// value), `global_correct`, `class_acc`, `class_iou`, `miou` — fractions, not percent; then
/// `img_per_s`, `seconds` and `data_wait_s` (the seconds the training loop waited for batches; absent
/// in files written before it was measured). NaN and infinities, which JSON lacks, are written as `null` and
/// read back as NaN — for a loss, both mean the run diverged (pandas and jq read the file as is). Numbers are written in Swift's shortest
/// round-trip form, so reading gives back the same Doubles.
///
/// Reading tolerates a last line cut short by a kill (no final newline and not valid JSON): it
/// is dropped. Any other unreadable line is an error naming the line.
public final class MetricsLog {
    public let path: String
    /// The records in the file, including those appended through this log.
    public private(set) var records: [EpochRecord]
    private let fd: Int32

    /// Opens `path` for appending, creating it if needed, after reading back what it holds.
    ///
    /// To resume from a checkpoint taken after epoch `keepingThrough`, pass that epoch: lines of
    /// later epochs (written after the checkpoint, before the kill) are cut off along with a
    /// truncated last line, so the file again ends where the checkpoint does.
    public init(path: String, keepingThrough lastEpoch: Int? = nil) throws {
        self.path = path
        let existing = FileManager.default.fileExists(atPath: path) ? try MetricsLog.parse(path) : (records: [], lineStarts: [], validBytes: 0)
        var keep = existing.records.count
        var keptBytes = existing.validBytes
        if let lastEpoch, let cut = existing.records.firstIndex(where: { $0.epoch > lastEpoch }) {
            keep = cut
            keptBytes = existing.lineStarts[cut]
        }
        records = Array(existing.records.prefix(keep))
        fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o644)
        if fd < 0 { throw ResultsError(path, "cannot open for appending", errno: errno) }
        // Every stored property is set, so from here on a throw runs deinit, which closes fd.
        if ftruncate(fd, off_t(keptBytes)) != 0 || fsync(fd) != 0 {
            throw ResultsError(path, "cannot truncate to \(keptBytes) bytes", errno: errno)
        }
        // A complete last record written without its newline (by hand, or another tool) must
        // not run into the next one.
        var last: UInt8 = 0
        let probe = keptBytes > 0 ? open(path, O_RDONLY | O_CLOEXEC) : -1
        if probe >= 0 {
            let read = pread(probe, &last, 1, off_t(keptBytes - 1))
            close(probe)
            if read == 1 && last != UInt8(ascii: "\n") {
                try AtomicFile.writeAll(fd, [UInt8(ascii: "\n")], path: path)
            }
        }
        AtomicFile.syncDirectory(AtomicFile.split(path).dir)
    }

    deinit { close(fd) }

    /// Appends `record` as one line and fsyncs it.
    public func append(_ record: EpochRecord) throws {
        try AtomicFile.writeAll(fd, Array((MetricsLog.line(record) + "\n").utf8), path: path)
        if fsync(fd) != 0 { throw AtomicFile.WriteError(path, "cannot sync", errno: errno) }
        records.append(record)
    }

    /// The records of the file at `path`; a missing file holds none.
    public static func read(_ path: String) throws -> [EpochRecord] {
        FileManager.default.fileExists(atPath: path) ? try parse(path).records : []
    }

    // MARK: Encoding

    /// The JSON object of `record`, without a newline.
    public static func line(_ record: EpochRecord) -> String {
        var fields = ["\"epoch\":\(record.epoch)", "\"train_loss\":\(number(record.trainLoss))"]
        let losses = record.losses.keys.sorted().map { "\(JSONText.quoted($0)):\(number(record.losses[$0]!))" }
        fields.append("\"losses\":{\(losses.joined(separator: ","))}")
        fields.append("\"lr\":\(number(record.lr))")
        if let s = record.scores { fields += scoreFields(s) }
        fields += ["\"img_per_s\":\(number(record.imagesPerSecond))", "\"seconds\":\(number(record.seconds))"]
        if let wait = record.dataWaitSeconds { fields.append("\"data_wait_s\":\(number(wait))") }
        return "{" + fields.joined(separator: ",") + "}"
    }

    /// The JSON fields of an evaluation's scores (`eval.json` holds them too).
    public static func scoreFields(_ s: SegmentationScores) -> [String] {
        var fields = [
            "\"dice\":\(number(s.dice))", "\"dice_recipe\":\(number(s.recipeDice))",
            "\"global_correct\":\(number(s.globalAccuracy))",
            "\"class_acc\":[\(s.classAccuracy.map(number).joined(separator: ","))]",
            "\"class_iou\":[\(s.classIoU.map(number).joined(separator: ","))]",
            "\"miou\":\(number(s.meanIoU))",
        ]
        if let pixel = s.pixel { fields.append("\"pixel\":\(line(pixel))") }
        return fields
    }

    private static func number(_ x: Double) -> String { x.isFinite ? "\(x)" : "null" }

    /// `{"images": N, "precision": {"pooled": [per class], "mean": [...], "std": [...]}, ...}`.
    private static func line(_ p: PixelScores) -> String {
        func list(_ xs: [Double]) -> String { "[" + xs.map(number).joined(separator: ",") + "]" }
        let scores = p.named.map { name, s in
            "\"\(name)\":{\"pooled\":\(list(s.pooled)),\"mean\":\(list(s.mean)),\"std\":\(list(s.std))}"
        }
        return "{\"images\":\(p.images)," + scores.joined(separator: ",") + "}"
    }


    // MARK: Decoding

    /// The fields of a line; optional numbers are those that may be `null`.
    private struct Line: Decodable {
        var epoch: Int
        var train_loss: Double?
        var losses: [String: Double?]?
        var lr: Double?
        var dice: Double??
        var dice_recipe: Double?
        var global_correct: Double?
        var class_acc: [Double?]?
        var class_iou: [Double?]?
        var miou: Double?
        var img_per_s: Double?
        var seconds: Double?
        var data_wait_s: Double?
        var pixel: PixelLine?

        struct PixelLine: Decodable {
            struct Statistic: Decodable {
                var pooled: [Double?]
                var mean: [Double?]
                var std: [Double?]
                var value: PixelScores.Statistic {
                    PixelScores.Statistic(pooled: pooled.map { $0 ?? .nan }, mean: mean.map { $0 ?? .nan },
                                          std: std.map { $0 ?? .nan })
                }
            }
            var images: Int
            var precision, recall, specificity, f1, mcc, auc_roc, auc_pr: Statistic
            var value: PixelScores {
                PixelScores(images: images, precision: precision.value, recall: recall.value,
                            specificity: specificity.value, f1: f1.value, mcc: mcc.value, rocAUC: auc_roc.value,
                            prAUC: auc_pr.value)
            }
        }

        var record: EpochRecord {
            let scores = dice.map { dice in
                SegmentationScores(dice: dice ?? .nan, recipeDice: dice_recipe ?? .nan,
                                   globalAccuracy: global_correct ?? .nan,
                                   classAccuracy: (class_acc ?? []).map { $0 ?? .nan },
                                   classIoU: (class_iou ?? []).map { $0 ?? .nan }, meanIoU: miou ?? .nan,
                                   pixel: pixel?.value)
            }
            return EpochRecord(epoch: epoch, trainLoss: train_loss ?? .nan,
                               losses: (losses ?? [:]).mapValues { $0 ?? .nan }, lr: lr ?? .nan, scores: scores,
                               imagesPerSecond: img_per_s ?? .nan, seconds: seconds ?? .nan, dataWaitSeconds: data_wait_s)
        }

        // `dice` present but null (an evaluation that saw no image) must stay an evaluated epoch.
        init(from decoder: Decoder) throws {
            let c = try decoder.container(keyedBy: CodingKeys.self)
            epoch = try c.decode(Int.self, forKey: .epoch)
            train_loss = try c.decodeIfPresent(Double.self, forKey: .train_loss)
            losses = try c.decodeIfPresent([String: Double?].self, forKey: .losses)
            lr = try c.decodeIfPresent(Double.self, forKey: .lr)
            dice = c.contains(.dice) ? .some(try c.decodeIfPresent(Double.self, forKey: .dice)) : nil
            dice_recipe = try c.decodeIfPresent(Double.self, forKey: .dice_recipe)
            global_correct = try c.decodeIfPresent(Double.self, forKey: .global_correct)
            class_acc = try c.decodeIfPresent([Double?].self, forKey: .class_acc)
            class_iou = try c.decodeIfPresent([Double?].self, forKey: .class_iou)
            miou = try c.decodeIfPresent(Double.self, forKey: .miou)
            img_per_s = try c.decodeIfPresent(Double.self, forKey: .img_per_s)
            seconds = try c.decodeIfPresent(Double.self, forKey: .seconds)
            data_wait_s = try c.decodeIfPresent(Double.self, forKey: .data_wait_s)
            pixel = try c.decodeIfPresent(PixelLine.self, forKey: .pixel)
        }

        enum CodingKeys: String, CodingKey {
            case epoch, train_loss, losses, lr, dice, dice_recipe, global_correct, class_acc, class_iou, miou
            case img_per_s, seconds, data_wait_s, pixel
        }
    }

    /// The records of the file, the byte offset where each starts, and the length of the
    /// readable prefix (everything but a truncated last line).
    private static func parse(_ path: String) throws -> (records: [EpochRecord], lineStarts: [Int], validBytes: Int) {
        let data: Data
        do { data = try Data(contentsOf: URL(fileURLWithPath: path)) } catch {
            throw ResultsError(path, "cannot read: \(error.localizedDescription)")
        }
        let bytes = [UInt8](data)
        let decoder = JSONDecoder()
        var records: [EpochRecord] = [], starts: [Int] = []
        var start = 0, lineNumber = 0
        while start < bytes.count {
            lineNumber += 1
            let end = bytes[start...].firstIndex(of: UInt8(ascii: "\n")) ?? bytes.count
            let complete = end < bytes.count
            let body = bytes[start..<end]
            if body.allSatisfy({ $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\r") }) {
                if !complete { break }
                start = end + 1
                continue
            }
            if let line = try? decoder.decode(Line.self, from: Data(body)) {
                records.append(line.record)
                starts.append(start)
            } else if complete {
                throw ResultsError(path, "line \(lineNumber) is not an epoch record")
            } else {
                // A kill mid-write leaves a line with no newline; what came before is intact.
                return (records, starts, start)
            }
            start = complete ? end + 1 : end
        }
        return (records, starts, bytes.count)
    }
}
