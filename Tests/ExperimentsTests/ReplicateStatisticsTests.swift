import XCTest
@testable import Experiments

/// Replicate statistics: Student's t quantiles and mean/std/interval against SciPy
/// (tools/fixtures/replicate_stats.py), the `sweep.seeds` shorthand, and the summary's groups.
final class ReplicateStatisticsTests: XCTestCase {
    struct Fixture: Decodable {
        struct Sample: Decodable { var values: [Double]; var mean, std, ci95: Double }
        var quantiles: [[Double]]
        var samples: [Sample]
    }

    func fixture() throws -> Fixture {
        let path = try XCTUnwrap(Bundle.module.path(forResource: "replicate_stats", ofType: "json", inDirectory: "Fixtures"))
        return try JSONDecoder().decode(Fixture.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }

    /// scipy.stats.t.ppf to 1e-9 relative: bisection stops at 1e-13 and the continued fraction
    /// converges to 1e-15, so anything looser is a bug, not rounding.
    func testStudentTQuantilesMatchSciPy() throws {
        let f = try fixture()
        XCTAssertEqual(f.quantiles.count, 60)
        for q in f.quantiles {
            let value = StudentT.quantile(q[0], degreesOfFreedom: q[1])
            XCTAssertEqual(value, q[2], accuracy: 1e-9 * max(1, abs(q[2])), "p \(q[0]), df \(q[1])")
        }
        XCTAssertEqual(StudentT.quantile(0.5, degreesOfFreedom: 3), 0)
        XCTAssertTrue(StudentT.quantile(1, degreesOfFreedom: 3).isNaN)
    }

    /// numpy's mean and std(ddof=1) and the t half-width, to 1e-12 relative (sums of a few
    /// doubles in another order).
    func testSampleStatisticsMatchNumPy() throws {
        for s in try fixture().samples {
            let stats = SampleStatistics(s.values)
            XCTAssertEqual(stats.n, s.values.count)
            XCTAssertEqual(stats.mean, s.mean, accuracy: 1e-12 * abs(s.mean))
            XCTAssertEqual(stats.std, s.std, accuracy: 1e-12 * s.std)
            XCTAssertEqual(stats.ci95, s.ci95, accuracy: 1e-9 * s.ci95)
        }
        let one = SampleStatistics([0.8, .nan])
        XCTAssertEqual(one.n, 1)
        XCTAssertEqual(one.mean, 0.8)
        XCTAssertTrue(one.std.isNaN && one.ci95.isNaN)
        XCTAssertEqual(SampleStatistics([]).n, 0)
        XCTAssertTrue(SampleStatistics([]).mean.isNaN)
    }

    // MARK: sweep.seeds

    func testSeedsShorthandIsTheSeedAxis() throws {
        let count = try loadConfig("sweep:\n  model.upsample: [bilinear, transposed]\n  seeds: 3\n")
        XCTAssertEqual(count.runs.map(\.id), ["upsample=bilinear,seed=0", "upsample=bilinear,seed=1", "upsample=bilinear,seed=2",
                                              "upsample=transposed,seed=0", "upsample=transposed,seed=1", "upsample=transposed,seed=2"])
        XCTAssertEqual(count.runs.map(\.config.seed), [0, 1, 2, 0, 1, 2])
        let list = try loadConfig("sweep:\n  seeds: [5, 7]\n  model.upsample: [bilinear]\n")
        XCTAssertEqual(list.runs.map(\.id), ["seed=5,upsample=bilinear", "seed=7,upsample=bilinear"])
        // The same runs, with the same hashes, as sweeping seed itself.
        let longhand = try loadConfig("sweep:\n  model.upsample: [bilinear, transposed]\n  seed: [0, 1, 2]\n")
        XCTAssertEqual(count.runs.map(\.hash), longhand.runs.map(\.hash))
    }

    func testSeedsShorthandErrors() {
        XCTAssertEqual(configErrors("sweep:\n  seeds: 0\n"),
                       ["exp.yaml:2:10: sweep.seeds must be a count from 1 to 1000 or a list of seeds, got '0'"])
        XCTAssertEqual(configErrors("sweep:\n  seeds: abc\n"),
                       ["exp.yaml:2:10: sweep.seeds must be a count (3: seeds 0, 1, 2) or a non-empty list of seeds, got 'abc'"])
        XCTAssertEqual(configErrors("sweep:\n  seeds: []\n"),
                       ["exp.yaml:2:10: sweep.seeds must be a count (3: seeds 0, 1, 2) or a non-empty list of seeds, got a list"])
        XCTAssertEqual(configErrors("sweep:\n  seed: [1, 2]\n  seeds: 2\n"),
                       ["exp.yaml:3:3: sweep: 'seed' is swept twice (see line 2)"])
        XCTAssertEqual(configErrors("sweep:\n  seeds: [0, -1]\n").count, 1, "a negative seed is refused like seed: -1")
    }

    // MARK: Groups in the summary

    func scores(_ dice: Double) -> SegmentationScores {
        SegmentationScores(dice: dice, recipeDice: dice, globalAccuracy: 0.95, classAccuracy: [0.97, 0.8],
                           classIoU: [0.94, 0.5], meanIoU: dice)
    }

    /// Two treatments × three seeds, one run of the second still pending: the groups' rows hold
    /// n done runs and mean, std and t-interval of each score over them only.
    var replicateRows: [SummaryRow] {
        let dice: [Double] = [0.812, 0.809, 0.815, 0.80, 0.79]
        var rows: [SummaryRow] = []
        for (t, upsample) in ["bilinear", "transposed"].enumerated() {
            for seed in 0..<3 {
                let i = t * 3 + seed
                let done = i < dice.count
                rows.append(SummaryRow(runID: "upsample=\(upsample),seed=\(seed)", status: done ? .done : .pending,
                                       swept: [("upsample", upsample), ("seed", "\(seed)")], bestEpoch: done ? 9 : nil,
                                       best: done ? scores(dice[i]) : nil, final: done ? scores(dice[i] - 0.01) : nil,
                                       wallSeconds: done ? 100 + Double(seed) : nil, classNames: ["background", "vessel"]))
            }
        }
        return rows
    }

    func testSummaryCSVHasAGroupRowPerTreatment() throws {
        let lines = SweepSummary.csv(replicateRows).components(separatedBy: "\r\n")
        XCTAssertEqual(lines.count, 6 + 2 + 2, "header, 6 runs, 2 groups, and the empty string after the last CRLF")
        XCTAssertEqual(lines[0], "run,status,upsample,seed,best_epoch,best_dice,best_miou,final_dice,final_miou,"
                       + "best_iou_vessel,wall_s,note,n,"
                       + "best_dice_mean,best_dice_std,best_dice_ci95,best_miou_mean,best_miou_std,best_miou_ci95,"
                       + "final_dice_mean,final_dice_std,final_dice_ci95,final_miou_mean,final_miou_std,final_miou_ci95,"
                       + "best_iou_vessel_mean,best_iou_vessel_std,best_iou_vessel_ci95,wall_s_mean,wall_s_std,wall_s_ci95")
        XCTAssertEqual(lines[1], "\"upsample=bilinear,seed=0\",done,bilinear,0,9,0.8120,81.20,0.8020,80.20,50.00,100.0,"
                       + String(repeating: ",", count: 19))
        // Values from numpy/SciPy: mean 0.812, std 0.003, ci95 = t(0.975, 2) 4.3027 * 0.003 / sqrt(3) = 0.0075.
        XCTAssertEqual(lines[7], "upsample=bilinear,group,bilinear,,,,,,,,,,3,0.8120,0.0030,0.0075,81.20,0.30,0.75,"
                       + "0.8020,0.0030,0.0075,80.20,0.30,0.75,50.00,0.00,0.00,101.0,1.0,2.5")
        // Two done runs: t(0.975, 1) = 12.706, so the interval is wide.
        XCTAssertEqual(lines[8], "upsample=transposed,group,transposed,,,,,,,,,2 of 3 runs done,2,0.7950,0.0071,0.0635,"
                       + "79.50,0.71,6.35,0.7850,0.0071,0.0635,78.50,0.71,6.35,50.00,0.00,0.00,100.5,0.7,6.4")
    }

    func testSummaryMarkdownHasAGroupTable() throws {
        let text = SweepSummary.markdown(replicateRows, title: "ablation_upsample")
        let groupTable = try XCTUnwrap(text.components(separatedBy: "over each group's n done runs.\n\n").last)
        let lines = groupTable.split(separator: "\n").map { $0.split(separator: "|").map { $0.trimmingCharacters(in: .whitespaces) } }
        XCTAssertEqual(lines.count, 4, groupTable)
        XCTAssertEqual(lines[0], ["group", "upsample", "n", "best dice", "best mIoU", "final dice", "final mIoU", "best IoU vessel",
                                  "wall time", "note"])
        XCTAssertEqual(lines[2], ["upsample=bilinear", "bilinear", "3", "0.812 ± 0.003 [0.805, 0.819]", "81.2 ± 0.3 [80.5, 81.9]",
                                  "0.802 ± 0.003 [0.795, 0.809]", "80.2 ± 0.3 [79.5, 80.9]", "50.0 ± 0.0 [50.0, 50.0]",
                                  "0h01m41s ± 0h00m01s", ""])
        XCTAssertEqual(lines[3].last, "2 of 3 runs done")
        XCTAssertTrue(text.hasPrefix("# ablation_upsample\n\n| run "), text)
    }

    /// Without a seed or fold among the ids, the files stay as they were: no groups.
    func testNoReplicatesNoGroups() {
        let rows = replicateRows.map { row -> SummaryRow in
            var r = row
            r.swept = r.swept.filter { $0.key != "seed" }
            return r
        }
        XCTAssertFalse(SweepSummary.csv(rows).contains("group"))
        XCTAssertFalse(SweepSummary.markdown(rows).contains("Replicate groups"))
    }

    /// Only the seed varies: one group named `all runs`.
    func testSeedsAloneMakeOneGroup() {
        let rows = replicateRows.prefix(3).map { row -> SummaryRow in
            var r = row
            r.swept = r.swept.filter { $0.key == "seed" }
            return r
        }
        let groups = SweepSummary.groups(Array(rows))
        XCTAssertEqual(groups.map(\.label), ["all runs"])
        XCTAssertEqual(groups[0].members.count, 3)
        XCTAssertTrue(SweepSummary.csv(Array(rows)).contains("\r\nall runs,group,,,"))
    }

    func testFoldsGroupLikeSeeds() {
        let pieces: [[(key: String, value: String)]] = [[("model", "unet"), ("fold", "0")], [("model", "unet"), ("fold", "1")],
                                                        [("model", "unetpp"), ("fold", "0")]]
        let groups = ReplicateGroup.groups(pieces) { $0 }
        XCTAssertEqual(groups.map(\.label), ["model=unet", "model=unetpp"])
        XCTAssertEqual(groups.map(\.members.count), [2, 1])
    }
}
