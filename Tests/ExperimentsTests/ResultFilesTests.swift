import XCTest
@testable import Experiments
@testable import Nets
#if canImport(Glibc)
import Glibc
#endif

/// result.txt, metrics.jsonl, the sweep summary and the atomic writer, against exact texts
/// written out by hand (numbers rounded as Python's format() rounds them, checked with Python).
final class ResultFilesTests: XCTestCase {
    var dir = ""

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "runexp-results-\(getpid())-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        chmod(dir, 0o755)
        try? FileManager.default.removeItem(atPath: dir)
    }

    func scores(_ dice: Double, _ global: Double, _ acc: [Double], _ iou: [Double]) -> SegmentationScores {
        SegmentationScores(dice: dice, recipeDice: dice, globalAccuracy: global, classAccuracy: acc,
                           classIoU: iou, meanIoU: nanMean(iou))
    }

    var twoEpochs: [EpochRecord] {
        [
            EpochRecord(epoch: 0, trainLoss: 0.69314718, losses: ["ce": 0.5, "dice": 0.19314718], lr: 0.01,
                        scores: scores(0.51249, 0.9012, [0.9725, 0.403], [0.899, 0.302]),
                        imagesPerSecond: 12.5, seconds: 40),
            EpochRecord(epoch: 1, trainLoss: 0.5, lr: 0.0099, scores: nil, imagesPerSecond: 12.75, seconds: 35),
            EpochRecord(epoch: 2, trainLoss: 0.32145, losses: ["ce": 0.2, "dice": 0.12145], lr: 0.0000005,
                        scores: scores(0.8125, 0.952, [0.8155, 0.6865], [0.947, .nan]),
                        imagesPerSecond: 13, seconds: 41.5),
        ]
    }

    // MARK: Number formats

    /// Expected strings are Python's `'{:.Nf}'.format(x)` for the same doubles.
    func testNumbersFormatLikePython() {
        XCTAssertEqual(NumberFormat.percent(0.0125), "1.2")     // 1.25 exactly: half to even
        XCTAssertEqual(NumberFormat.percent(0.9725), "97.2")    // 97.24999…
        XCTAssertEqual(NumberFormat.percent(0.6865), "68.7")
        XCTAssertEqual(NumberFormat.percent(0.8125), "81.2")
        XCTAssertEqual(NumberFormat.fixed(0.8125, 3), "0.812")
        XCTAssertEqual(NumberFormat.fixed(0.32145, 4), "0.3215")
        XCTAssertEqual(NumberFormat.fixed(0.0000005, 6), "0.000000")
        XCTAssertEqual(NumberFormat.fixed(0.0 / 0.0, 3), "nan")
        XCTAssertEqual(NumberFormat.percentList([0.5, .nan]), "['50.0', 'nan']")
        XCTAssertEqual(NumberFormat.duration(3733.9), "1h02m13s")
        XCTAssertEqual(NumberFormat.duration(59), "0h00m59s")
        XCTAssertEqual(NumberFormat.duration(100 * 3600 + 61), "100h01m01s")
    }

    // MARK: result.txt

    func testResultFileExactText() throws {
        let records = twoEpochs
        let summary = ResultFile.Summary(records: records, metric: "dice", score: { $0.dice }, wallSeconds: 3733.9)
        XCTAssertEqual(summary.best?.epoch, 2)
        let path = dir + "/result.txt"
        try ResultFile.write(records, summary: summary, to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), """
            [epoch: 0]
            train_loss: 0.6931
            lr: 0.010000
            dice coefficient: 0.512
            global correct: 90.1
            average row correct: ['97.2', '40.3']
            IoU: ['89.9', '30.2']
            mean IoU: 60.1

            [epoch: 2]
            train_loss: 0.3215
            lr: 0.000000
            dice coefficient: 0.812
            global correct: 95.2
            average row correct: ['81.5', '68.7']
            IoU: ['94.7', 'nan']
            mean IoU: 94.7

            [best: epoch 2 by dice]
            train_loss: 0.3215
            lr: 0.000000
            dice coefficient: 0.812
            global correct: 95.2
            average row correct: ['81.5', '68.7']
            IoU: ['94.7', 'nan']
            mean IoU: 94.7

            wall time: 1h02m13s

            """)

        // While training: blocks only. Selecting by mean IoU picks epoch 2 too (NaN class skipped).
        XCTAssertEqual(ResultFile.render(Array(records.prefix(1))), """
            [epoch: 0]
            train_loss: 0.6931
            lr: 0.010000
            dice coefficient: 0.512
            global correct: 90.1
            average row correct: ['97.2', '40.3']
            IoU: ['89.9', '30.2']
            mean IoU: 60.1


            """)
        XCTAssertEqual(EpochRecord.best(in: records, by: { $0.meanIoU })?.epoch, 2)
    }

    /// With class names, each block gains a `classes:` line above the per-class lists, in their
    /// order; every line of the recipe stays as it was, so dropping the new lines gives back the
    /// unnamed file byte for byte.
    func testResultFileNamesTheClasses() throws {
        let records = twoEpochs
        let names = ["background", "vessel"]
        let summary = ResultFile.Summary(records: records, metric: "dice", score: { $0.dice }, wallSeconds: 3733.9)
        let path = dir + "/result.txt"
        try ResultFile.write(records, summary: summary, classNames: names, to: path)
        let named = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(named.hasPrefix("""
            [epoch: 0]
            train_loss: 0.6931
            lr: 0.010000
            dice coefficient: 0.512
            global correct: 90.1
            classes: ['background', 'vessel']
            average row correct: ['97.2', '40.3']
            IoU: ['89.9', '30.2']
            mean IoU: 60.1

            [epoch: 2]

            """), named)
        XCTAssertEqual(named.components(separatedBy: "classes: ['background', 'vessel']\n").count, 4,
                       "one line in each of the three blocks")
        XCTAssertEqual(named.replacingOccurrences(of: "classes: ['background', 'vessel']\n", with: ""),
                       ResultFile.render(records, summary: summary))
        // Names that do not fit the scores' classes label nothing.
        XCTAssertEqual(ResultFile.render(records, classNames: ["a", "b", "c"]), ResultFile.render(records))
        // runexp eval's eval.txt prints the same lines.
        XCTAssertEqual(ResultFile.scoreLines(records[0].scores!, classNames: names), """
            dice coefficient: 0.512
            global correct: 90.1
            classes: ['background', 'vessel']
            average row correct: ['97.2', '40.3']
            IoU: ['89.9', '30.2']
            mean IoU: 60.1

            """)
    }

    /// Names are quoted as Python's `str` of a list quotes them (the expected text is python3's for the same strings).
    func testClassNamesQuoteLikePython() {
        XCTAssertEqual(NumberFormat.pythonList(["it's", "a\"b", "c\\d", "it's \"x\"", "traffic light"]),
                       #"["it's", 'a"b', 'c\\d', 'it\'s "x"', 'traffic light']"#)
        XCTAssertEqual(NumberFormat.pythonList([]), "[]")
    }

    func testResultFileOfStoppedRun() {
        let diverged = EpochRecord(epoch: 0, trainLoss: .nan, lr: 0.01, scores: nil, imagesPerSecond: 10, seconds: 5)
        let summary = ResultFile.Summary(records: [diverged], metric: "miou", score: { $0.meanIoU },
                                         wallSeconds: 5, stopped: "diverged (loss NaN at epoch 0)")
        XCTAssertEqual(ResultFile.render([diverged], summary: summary), """
            [best: none (no evaluated epoch)]

            stopped: diverged (loss NaN at epoch 0)
            wall time: 0h00m05s

            """)
    }

    /// Ties keep the first epoch (the recipe saves on strict improvement); NaN never wins.
    func testBestEpochTiesAndNaN() {
        let r = [0.5, 0.7, .nan, 0.7].enumerated().map { i, d in
            EpochRecord(epoch: i, trainLoss: 1, lr: 0, scores: scores(d, 0.9, [0.9], [0.9]), imagesPerSecond: 1, seconds: 1)
        }
        XCTAssertEqual(EpochRecord.best(in: r, by: { $0.dice })?.epoch, 1)
        XCTAssertNil(EpochRecord.best(in: [], by: { $0.dice }))
    }

    // MARK: metrics.jsonl

    func testMetricsLogRoundTripAndLineFormat() throws {
        let path = dir + "/metrics.jsonl"
        var records = twoEpochs
        var rng = SystemRandomNumberGenerator()
        records.append(EpochRecord(epoch: 3, trainLoss: .infinity, losses: ["a\"b": .nan], lr: Double.random(in: 0...1, using: &rng),
                                   scores: scores(.nan, Double.random(in: 0...1, using: &rng), [1 / 3], [.nan]),
                                   imagesPerSecond: 1e-300, seconds: 123456789.123456789))
        let log = try MetricsLog(path: path)
        for r in records { try log.append(r) }
        XCTAssertEqual(log.records, records)
        // Infinities, written as null like NaN, come back as NaN; everything else bit for bit.
        var back = records
        back[3].trainLoss = .nan
        XCTAssertEqual(try MetricsLog.read(path), back)

        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 4)
        XCTAssertEqual(String(lines[0]), #"{"epoch":0,"train_loss":0.69314718,"losses":{"ce":0.5,"dice":0.19314718},"lr":0.01,"dice":0.51249,"dice_recipe":0.51249,"global_correct":0.9012,"class_acc":[0.9725,0.403],"class_iou":[0.899,0.302],"miou":0.6005,"img_per_s":12.5,"seconds":40.0}"#)
        XCTAssertEqual(String(lines[1]), #"{"epoch":1,"train_loss":0.5,"losses":{},"lr":0.0099,"img_per_s":12.75,"seconds":35.0}"#)
        XCTAssertTrue(lines[3].hasPrefix(#"{"epoch":3,"train_loss":null,"losses":{"a\"b":null},"#))
        // Parsed by a general JSON reader too, with NaN as null.
        let object = try JSONSerialization.jsonObject(with: Data(lines[2].utf8)) as? [String: Any]
        XCTAssertEqual(object?["class_iou"] as? [NSObject], [NSNumber(value: 0.947), NSNull()])
    }

    /// `eval.metrics`' paper scores survive metrics.jsonl bit for bit (NaN as null) — a resumed
    /// run compares them — and print as a scoped block in result.txt.
    func testPixelScoresRoundTripAndPrint() throws {
        func statistic(_ base: Double) -> PixelScores.Statistic {
            PixelScores.Statistic(pooled: [base, base / 3], mean: [.nan, base / 7], std: [.nan, 1e-17 + base / 11])
        }
        let pixel = PixelScores(images: 20, precision: statistic(0.8), recall: statistic(0.767), specificity: statistic(0.984),
                                f1: statistic(0.816), mcc: statistic(0.79), rocAUC: statistic(0.979), prAUC: statistic(0.9))
        var record = twoEpochs[0]
        record.scores?.pixel = pixel
        let path = dir + "/metrics.jsonl"
        let log = try MetricsLog(path: path)
        try log.append(record)
        XCTAssertEqual(try MetricsLog.read(path), [record])
        XCTAssertEqual(try MetricsLog.read(path)[0].scores?.pixel, pixel)
        let text = ResultFile.render([record])
        XCTAssertTrue(text.contains("""
            pixel scores (class 1, argmax; ignore_index pixels excluded; pooled over 20 images | image mean ± std):
            sensitivity: 0.2557 | 0.1096 ± 0.0697
            """), text)
        XCTAssertTrue(text.contains("AUC-ROC: 0.3263 | 0.1399 ± 0.0890\n"), text)

        // Named classes name the foreground: the class itself, or the class the mean leaves out.
        XCTAssertTrue(ResultFile.render([record], classNames: ["background", "vessel"])
            .contains("\npixel scores (vessel, argmax; ignore_index pixels excluded; pooled over 20 images"))
        func three(_ s: PixelScores.Statistic) -> PixelScores.Statistic {
            .init(pooled: s.pooled + [0.5], mean: s.mean + [0.5], std: s.std + [0])
        }
        var multi = record
        multi.scores?.classIoU = [0.9, 0.3, 0.5]
        multi.scores?.classAccuracy = [0.9, 0.4, 0.5]
        multi.scores?.pixel = PixelScores(images: 20, precision: three(pixel.precision), recall: three(pixel.recall),
                                          specificity: three(pixel.specificity), f1: three(pixel.f1), mcc: three(pixel.mcc),
                                          rocAUC: three(pixel.rocAUC), prAUC: three(pixel.prAUC))
        XCTAssertTrue(ResultFile.render([multi]).contains("\npixel scores (mean of classes 1-2, argmax;"))
        let named = ResultFile.render([multi], classNames: ["road", "car", "person"])
        XCTAssertTrue(named.contains("\npixel scores (mean of classes 1-2, all but road, argmax;"), named)
        XCTAssertTrue(named.contains("\nclasses: ['road', 'car', 'person']\naverage row correct: ['90.0', '40.0', '50.0']\n"),
                      named)
    }

    /// A kill mid-line leaves a tail with no newline: it is dropped on read, cut off when the log
    /// is reopened, and the next append starts on a clean line.
    func testMetricsLogToleratesTruncatedLastLine() throws {
        let path = dir + "/metrics.jsonl"
        let records = twoEpochs
        let full = records.map { MetricsLog.line($0) + "\n" }.joined()
        let partial = String(MetricsLog.line(records[2]).prefix(40))
        try (full.split(separator: "\n").prefix(2).map { $0 + "\n" }.joined() + partial).write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertEqual(try MetricsLog.read(path), Array(records.prefix(2)))

        let log = try MetricsLog(path: path)
        XCTAssertEqual(log.records, Array(records.prefix(2)))
        try log.append(records[2])
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), full)
        XCTAssertEqual(try MetricsLog.read(path), records)
    }

    /// Resuming from the checkpoint of epoch 0 drops the later lines written before the kill.
    func testMetricsLogKeepsThroughCheckpointEpoch() throws {
        let path = dir + "/metrics.jsonl"
        let log = try MetricsLog(path: path)
        for r in twoEpochs { try log.append(r) }
        let resumed = try MetricsLog(path: path, keepingThrough: 0)
        XCTAssertEqual(resumed.records, [twoEpochs[0]])
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), MetricsLog.line(twoEpochs[0]) + "\n")
        XCTAssertEqual(try MetricsLog.read(dir + "/missing.jsonl"), [])
    }

    func testMetricsLogRejectsCorruptMiddleLine() throws {
        let path = dir + "/metrics.jsonl"
        try (MetricsLog.line(twoEpochs[0]) + "\n{oops\n" + MetricsLog.line(twoEpochs[1]) + "\n")
            .write(toFile: path, atomically: false, encoding: .utf8)
        XCTAssertThrowsError(try MetricsLog.read(path)) { error in
            XCTAssertEqual("\(error)", "\(path): line 2 is not an epoch record")
        }
    }

    // MARK: Sweep summary

    /// Rows without a replicate key (`seed`, `fold`): the runs' table alone (groups: ReplicateStatisticsTests).
    var summaryRows: [SummaryRow] {
        let done = scores(0.8126, 0.95, [0.97, 0.8], [0.94, 0.68])
        return [
            SummaryRow(runID: "base_c=32,size=0", status: .done, swept: [("base_c", "32"), ("size", "0")],
                       bestEpoch: 187, best: done, final: scores(0.8, 0.95, [0.97, 0.8], [0.94, 0.6]), wallSeconds: 3733.94,
                       classNames: ["background", "vessel"]),
            SummaryRow(runID: "base_c=64,size=0", status: .failed, note: "diverged (loss NaN at epoch 3), \"lr\" too high",
                       swept: [("base_c", "64"), ("size", "0"), ("lr", "0.1")], wallSeconds: 61),
            SummaryRow(runID: "base_c=64,size=1", status: .pending, swept: [("base_c", "64"), ("size", "1")]),
        ]
    }

    func testSummaryCSVExactText() {
        XCTAssertEqual(SweepSummary.csv(summaryRows), [
            "run,status,base_c,size,lr,best_epoch,best_dice,best_miou,final_dice,final_miou,best_iou_vessel,wall_s,note",
            "\"base_c=32,size=0\",done,32,0,,187,0.8126,81.00,0.8000,77.00,68.00,3733.9,",
            "\"base_c=64,size=0\",failed,64,0,0.1,,,,,,,61.0,\"diverged (loss NaN at epoch 3), \"\"lr\"\" too high\"",
            "\"base_c=64,size=1\",pending,64,1,,,,,,,,,",
        ].map { $0 + "\r\n" }.joined())
    }

    func testSummaryMarkdownExactText() throws {
        let expected = """
            # drive_unet

            | run              | status  | base_c | size | lr  | best epoch | best dice | best mIoU | final dice | final mIoU | best IoU vessel | wall time | note                                          |
            | ---------------- | ------- | ------ | ---- | --- | ---------: | --------: | --------: | ---------: | ---------: | --------------: | --------: | --------------------------------------------- |
            | base_c=32,size=0 | done    | 32     | 0    |     |        187 |     0.813 |      81.0 |      0.800 |       77.0 |            68.0 |  1h02m13s |                                               |
            | base_c=64,size=0 | failed  | 64     | 0    | 0.1 |            |           |           |            |            |                 |  0h01m01s | diverged (loss NaN at epoch 3), "lr" too high |
            | base_c=64,size=1 | pending | 64     | 1    |     |            |           |           |            |            |                 |           |                                               |

            """
        XCTAssertEqual(SweepSummary.markdown(summaryRows, title: "drive_unet"), expected)
        try SweepSummary.write(summaryRows, title: "drive_unet", to: dir)
        XCTAssertEqual(try String(contentsOfFile: dir + "/summary.md", encoding: .utf8), expected)
        XCTAssertEqual(try String(contentsOfFile: dir + "/summary.csv", encoding: .utf8), SweepSummary.csv(summaryRows))
    }

    /// With `eval.metrics` in some run, the paper metrics of each best epoch (the foreground's,
    /// pooled) follow the final Dice and mIoU; runs without them leave those cells empty.
    func testSummaryShowsPaperMetricsWhenARunHasThem() {
        func statistic(_ v: Double) -> PixelScores.Statistic { .init(pooled: [.nan, v], mean: [.nan, v], std: [.nan, 0]) }
        var rows = summaryRows
        rows[0].best?.pixel = PixelScores(images: 20, precision: statistic(0.8), recall: statistic(0.767),
                                          specificity: statistic(0.984), f1: statistic(0.816), mcc: statistic(0.79),
                                          rocAUC: statistic(0.9791), prAUC: statistic(0.9))
        let csv = SweepSummary.csv(rows).components(separatedBy: "\r\n")
        XCTAssertEqual(csv[0], "run,status,base_c,size,lr,best_epoch,best_dice,best_miou,final_dice,final_miou,best_iou_vessel,"
                       + "best_sensitivity,best_specificity,best_f1,best_mcc,best_auc_roc,best_auc_pr,wall_s,note")
        XCTAssertEqual(csv[1], "\"base_c=32,size=0\",done,32,0,,187,0.8126,81.00,0.8000,77.00,68.00,0.7670,0.9840,0.8160,0.7900,"
                       + "0.9791,0.9000,3733.9,")
        XCTAssertTrue(csv[2].hasSuffix(",,,,,,,61.0,\"diverged (loss NaN at epoch 3), \"\"lr\"\" too high\""), csv[2])
        XCTAssertTrue(SweepSummary.markdown(rows).contains("| best auc_roc | best auc_pr |"))
        XCTAssertFalse(SweepSummary.csv(summaryRows).contains("auc"), "no columns when no run has them")
    }

    /// Each foreground class's IoU at the best epoch gets a column, named by the runs' class
    /// names when they agree and by class id when they do not (or have none), so that a column
    /// never mixes two classes; none for runs of different class counts or of more than 8
    /// foreground classes (VOC's 20 would make the table unreadable).
    func testSummaryNamesPerClassIoUColumnsOrFallsBackToIds() {
        func row(_ id: String, _ iou: [Double], _ names: [String]?) -> SummaryRow {
            SummaryRow(runID: id, status: .done, swept: [("seed", id)], bestEpoch: 3,
                       best: scores(0.8, 0.9, iou.map { _ in 0.9 }, iou), wallSeconds: 10, classNames: names)
        }
        let organs = ["background", "liver", "kidney", "spleen"]
        let agree = [row("0", [0.9, 0.5, 0.61, 0.71], organs), row("1", [0.9, 0.7, 0.6, 0.5], organs),
                     SummaryRow(runID: "2", status: .pending, swept: [("seed", "2")])]
        let csv = SweepSummary.csv(agree).components(separatedBy: "\r\n")
        XCTAssertEqual(csv[0], "run,status,seed,best_epoch,best_dice,best_miou,final_dice,final_miou,best_iou_liver,"
                       + "best_iou_kidney,best_iou_spleen,wall_s,note,n,best_dice_mean,best_dice_std,best_dice_ci95,"
                       + "best_miou_mean,best_miou_std,best_miou_ci95,final_dice_mean,final_dice_std,final_dice_ci95,"
                       + "final_miou_mean,final_miou_std,final_miou_ci95,best_iou_liver_mean,best_iou_liver_std,"
                       + "best_iou_liver_ci95,best_iou_kidney_mean,best_iou_kidney_std,best_iou_kidney_ci95,"
                       + "best_iou_spleen_mean,best_iou_spleen_std,best_iou_spleen_ci95,wall_s_mean,wall_s_std,wall_s_ci95")
        XCTAssertTrue(csv[1].hasPrefix("0,done,0,3,0.8000,68.00,,,50.00,61.00,71.00,10.0,"), csv[1])
        // The group row's liver statistics: mean 60, sample std 14.14, ci95 12.706 * 14.14 / sqrt(2) = 127.06.
        XCTAssertTrue(csv[4].contains(",60.00,14.14,127.06,"), csv[4])
        XCTAssertTrue(SweepSummary.markdown(agree).contains("| best IoU liver | best IoU kidney | best IoU spleen |"))

        var disagree = agree
        disagree[1].classNames = ["background", "liver", "spleen", "kidney"]
        XCTAssertTrue(SweepSummary.csv(disagree).hasPrefix("run,status,seed,best_epoch,best_dice,best_miou,final_dice,"
                                                           + "final_miou,best_iou_1,best_iou_2,best_iou_3,wall_s,"))
        disagree[1].classNames = nil
        XCTAssertTrue(SweepSummary.markdown(disagree).contains("| best IoU 1 | best IoU 2 | best IoU 3 |"),
                      "a run without names cannot vouch for the others' names")
        // Names with spaces keep them in Markdown and take underscores in the CSV header.
        let traffic = [row("0", [0.9, 0.5], ["road", "traffic light"])]
        XCTAssertTrue(SweepSummary.csv(traffic).contains(",best_iou_traffic_light,"))
        XCTAssertTrue(SweepSummary.markdown(traffic).contains("| best IoU traffic light |"))

        XCTAssertFalse(SweepSummary.csv([row("0", [0.9, 0.5], nil), row("1", [0.9, 0.5, 0.5], nil)]).contains("best_iou"),
                       "runs of different class counts")
        let voc = Array(repeating: 0.5, count: 21)
        XCTAssertFalse(SweepSummary.csv([row("0", voc, VOCDataset.classNames)]).contains("best_iou"), "20 foreground classes")
        XCTAssertTrue(SweepSummary.csv([row("0", Array(voc.prefix(9)), nil)]).contains(",best_iou_8,wall_s,"),
                      "8 foreground classes still fit")
    }

    func testSummaryRowFromRecords() {
        let row = SummaryRow(runID: "r", status: .running, swept: [], records: twoEpochs, score: { $0.dice }, wallSeconds: 10)
        XCTAssertEqual(row.bestEpoch, 2)
        XCTAssertEqual(row.best, twoEpochs[2].scores)
        XCTAssertEqual(row.final, twoEpochs[2].scores)
        XCTAssertEqual(MarkdownTable.cell("a|b\nc"), "a\\|b c")
        XCTAssertEqual(CSV.field("plain"), "plain")
        XCTAssertEqual(CSV.field("two\nlines"), "\"two\nlines\"")
    }

    // MARK: Atomic writes

    /// A write that fails at any step leaves the old contents and no temporary file behind.
    func testAtomicWriteFailureKeepsOldFile() throws {
        let path = dir + "/result.txt"
        try AtomicFile.write("old\n", to: path)
        defer { AtomicFile.failure = nil }
        for step in [AtomicFile.Step.open, .write, .sync, .rename] {
            AtomicFile.failure = AtomicFile.Failure(suffix: "/result.txt", step: step, after: 0)
            XCTAssertThrowsError(try AtomicFile.write(Array("new\n".utf8), to: path), "\(step)") { error in
                XCTAssertTrue("\(error)".hasPrefix(path + ": "), "\(error)")
            }
            XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old\n", "\(step)")
            XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["result.txt"], "\(step)")
        }
        AtomicFile.failure = nil
        try AtomicFile.write("new\n", to: path)
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "new\n")
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["result.txt"])
    }

    /// A real failure: the target is a non-empty folder, so the rename is refused.
    func testAtomicWriteOverFolderFailsCleanly() throws {
        let path = dir + "/taken"
        try FileManager.default.createDirectory(atPath: path + "/inside", withIntermediateDirectories: true)
        XCTAssertThrowsError(try AtomicFile.write("x", to: path))
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: dir), ["taken"])
        XCTAssertEqual(try FileManager.default.contentsOfDirectory(atPath: path), ["inside"])
    }

    /// A real failure: a read-only folder (root ignores permissions, so skipped there).
    func testAtomicWriteIntoReadOnlyFolderKeepsOldFile() throws {
        try XCTSkipIf(geteuid() == 0, "root writes into read-only folders")
        let path = dir + "/result.txt"
        try AtomicFile.write("old\n", to: path)
        chmod(dir, 0o555)
        defer { chmod(dir, 0o755) }
        XCTAssertThrowsError(try AtomicFile.write("new\n", to: path)) { error in
            XCTAssertTrue("\(error)".contains("Permission denied"), "\(error)")
        }
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8), "old\n")
    }
}
