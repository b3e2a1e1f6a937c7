import Foundation
import XCTest
@testable import Experiments
@testable import Nets

/// The time the training loop waits for the loader: `runexp bench --data` (run as the built
/// binary, skipped without one) and the trainer's `data_wait_s` in metrics.jsonl. No assertion
/// depends on how long anything took, only on what is reported and where.
final class DataWaitTests: XCTestCase {
    /// The number that `pattern`'s first capture group matches in `text`, or nil.
    func number(_ pattern: String, in text: String) -> Double? {
        guard let regex = try? NSRegularExpression(pattern: pattern),
              let match = regex.firstMatch(in: text, range: NSRange(text.startIndex..., in: text)),
              let range = Range(match.range(at: 1), in: text) else { return nil }
        return Double(text[range])
    }

    /// The shipped quickstart shrunk to 4 training images in batches of 2 (2 batches an epoch),
    /// so that 1 warm-up and 3 timed steps cross one epoch start: the bench keeps the existing
    /// lines, adds the wait and the fixed-batch figure, and counts the epoch start it timed.
    func testBenchDataOnQuickstartPrintsTheWaitBesideTheFixedBatch() throws {
        let result = try RunexpBinary.run(["bench", "--config", packageRoot + "/experiments/quickstart.yaml",
                                           "--set", "data.synthetic.count=4", "--set", "schedule.batch_size=2",
                                           "--data", "--steps", "3", "--warmup", "1"], in: try temporaryFolder())
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "")
        let out = result.stdout
        XCTAssertTrue(out.contains("UNet from \(packageRoot)/experiments/quickstart.yaml, its training data"), out)
        XCTAssertTrue(out.contains("batch 2 3x128x128, 2 classes, 2 threads"), out)
        XCTAssertNotNil(number(#"([0-9.]+) img/s mean, [0-9.]+ img/s best \([0-9.]+ s/step over 3 steps after 1 warm-up\)"#,
                               in: out), out)
        XCTAssertNotNil(number(#"per step: forward ([0-9.]+) s, loss [0-9.]+ s, backward [0-9.]+ s"#, in: out), out)
        let waited = number(#"data: waited ([0-9.]+) s/step for batches \(max [0-9.]+ s; 1 worker, prefetch 2, "#
                            + #"2 batches/epoch, 1 epoch start timed\); step alone [0-9.]+ s/step"#, in: out)
        XCTAssertNotNil(waited, out)
        XCTAssertGreaterThanOrEqual(waited ?? -1, 0)
        XCTAssertNotNil(number(#"without data: ([0-9.]+) img/s mean, [0-9.]+ s/step"#, in: out), out)
    }

    /// --workers and --prefetch reach the loader the bench reads from.
    func testBenchDataUsesTheGivenLoaderSettings() throws {
        let result = try RunexpBinary.run(["bench", "--config", packageRoot + "/experiments/quickstart.yaml",
                                           "--set", "data.synthetic.count=4", "--data", "--workers", "2", "--prefetch", "3",
                                           "--steps", "1", "--warmup", "0"], in: try temporaryFolder())
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains("2 workers, prefetch 3, 1 batches/epoch, 1 epoch start timed"), result.stdout)
    }

    /// `data_wait_s` follows `seconds` in a metrics.jsonl line and reads back; lines written
    /// before it was measured read as nil, and records without it keep their old line.
    func testDataWaitRoundTripsInMetricsJSONL() throws {
        let path = try temporaryFolder() + "/metrics.jsonl"
        let timed = EpochRecord(epoch: 0, trainLoss: 0.5, lr: 0.01, scores: nil, imagesPerSecond: 12.5, seconds: 40,
                                dataWaitSeconds: 0.125)
        let old = EpochRecord(epoch: 1, trainLoss: 0.5, lr: 0.01, scores: nil, imagesPerSecond: 12.5, seconds: 40)
        XCTAssertEqual(MetricsLog.line(timed),
                       #"{"epoch":0,"train_loss":0.5,"losses":{},"lr":0.01,"img_per_s":12.5,"seconds":40.0,"data_wait_s":0.125}"#)
        XCTAssertEqual(MetricsLog.line(old), #"{"epoch":1,"train_loss":0.5,"losses":{},"lr":0.01,"img_per_s":12.5,"seconds":40.0}"#)
        let log = try MetricsLog(path: path)
        try log.append(timed)
        try log.append(old)
        let back = try MetricsLog.read(path)
        XCTAssertEqual(back, [timed, old])
        XCTAssertEqual(back.map(\.dataWaitSeconds), [0.125, nil])
        XCTAssertNotEqual(timed, old, "records differing only in epoch and data wait")
        var other = timed
        other.dataWaitSeconds = 0.25
        XCTAssertNotEqual(timed, other)
    }

    /// Every epoch the trainer writes records its wait, part of the epoch's training seconds, and
    /// metrics.jsonl carries it.
    func testTrainerRecordsEachEpochsDataWait() throws {
        let results = try temporaryFolder()
        let yaml = """
            name: tiny
            seed: 3
            data: {dataset: synthetic, num_classes: 2, crop: null, scale: null, synthetic: {size: 64, count: 8, val_count: 2}}
            model: {name: unet, base_c: 4, upsample: bilinear}
            schedule: {epochs: 2, batch_size: 4}
            """
        let experiment = try Experiment.parse(yaml, file: "tiny.yaml", options: ConfigOptions(checkPaths: false))
        let runner = SweepRunner(experiment: experiment, options: SweepOptions(resultsRoot: results),
                                 reporter: ProgressReporter(live: false, write: { _ in }))
        let (failed, _) = try runner.run()
        XCTAssertEqual(failed, 0)
        let path = runner.directory(of: experiment.runs[0]) + "/metrics.jsonl"
        let records = try MetricsLog.read(path)
        XCTAssertEqual(records.count, 2)
        for r in records {
            let wait = try XCTUnwrap(r.dataWaitSeconds, "epoch \(r.epoch)")
            XCTAssertGreaterThan(wait, 0, "epoch \(r.epoch): every next() takes some time")
            XCTAssertLessThan(wait, r.seconds, "epoch \(r.epoch)")
        }
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(text.components(separatedBy: "\"data_wait_s\":").count - 1, 2, text)
    }
}
