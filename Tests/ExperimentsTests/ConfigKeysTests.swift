import Foundation
import XCTest
@testable import Experiments

/// The key tables (`ConfigKey`) against the two things that cannot drift with them: what the
/// reader actually reads, and the user's reference, `experiments/README.md`.
final class ConfigKeysTests: XCTestCase {
    /// Read before decoding (by `ConfigSources` and `SweepSpec`), so no section reader sees them.
    let readBeforeDecoding: Set<String> = ["base", "sweep"]

    /// Every key path the tables declare, list entries as `*` (`stages.*.lr`).
    func declaredPaths(_ schema: ConfigSchema = ConfigSchema.root, under path: String = "") -> Set<String> {
        switch schema {
        case .value: return []
        case .list(let element): return declaredPaths(element, under: path + ".*")
        case .section(let keys):
            return keys.reduce(into: []) { paths, entry in
                let child = path.isEmpty ? entry.0 : "\(path).\(entry.0)"
                paths.insert(child)
                paths.formUnion(declaredPaths(entry.1, under: child))
            }
        }
    }

    /// Between them, these configs use every branch of the tables' `when`s: each model
    /// family, optimizer and decay kind, and the settings that are off by default.
    let configsUsingEveryKey = [
        """
        data: {palette: [[0, 0, 0], [255, 0, 0]], val_fraction: 0.2, label_map: {255: 1}, class_names: [background, vessel]}
        model: {pretrained: backbone.safetensors}
        loss: {focal: 1.0, focal_alpha: 0.25}
        stages: [{epochs: 200, freeze: [encoder]}]
        init: {checkpoint: start.safetensors}
        """,
        """
        precision: bf16
        data: {dataset: synthetic}
        model: {name: fcn, backbone: vgg16}
        optimizer: {name: adam}
        schedule: {decay: step, milestones: [100]}
        """,
        "model: {name: deeplabv3, backbone: resnet18}\nschedule: {decay: cosine}\n",
        "model: {name: unetpp, deep_supervision: true, prune: 2}\neval: {metrics: true, early_stop: {patience: 3, min_delta: 0.01}}\n",
        "model: {name: deeplabv3plus, backbone: resnet34, aspp_rates: [3, 6, 9]}\n",
        "model: {name: deeplabv3, backbone: mobilenet_v3_large, aux: true}\nloss: {aux: 0.4}\n",
        "eval: {mode: slide, crop: 64, stride: 42, blend: uniform, tile_batch: 4, tta: [hflip, vflip]}\n",
        "data: {dataset: folder, images: image, masks: label, mask_suffix: _mask}\n",
        "data: {dataset: voc, year: 2007}\n",
        "data: {dataset: synthetic, folds: 5, fold: 1, split_seed: 3}\n",
        "data: {dataset: synthetic, folds: 2, fold: 0, splits: splits.json}\n",
    ]

    /// A key that is declared but that no reader reads would be accepted and ignored. Each
    /// config's `config.yaml` writes every key that applies to it; reading that back must
    /// read every declared key in one config or another.
    func testEveryDeclaredKeyIsRead() throws {
        var read: Set<String> = []
        for text in configsUsingEveryKey {
            let written = try loadConfig(text).runs[0].config.yaml
            let run = try loadConfig(written).runs[0]
            XCTAssertEqual(run.config.yaml, written, "config.yaml reads back to itself")
            for path in run.locations.table.keys {
                read.insert(path.split(separator: ".").map { Int($0) == nil ? String($0) : "*" }.joined(separator: "."))
            }
        }
        XCTAssertEqual(declaredPaths().subtracting(readBeforeDecoding).subtracting(read), [],
                       "declared but never read")
    }

    /// README's "Keys and defaults" block documents every declared key in its place, and no
    /// other. It is read as YAML after making two of its conventions YAML: a commented-out
    /// key (`# name: defaults to ...`, for keys without a default to show) and an `e.g.`
    /// example in a key's comment, which stands for its value (so `stages: []  # e.g.
    /// [{epochs: 50, freeze: [encoder], ...}]` documents the keys of a stage).
    func testREADMEDocumentsEveryDeclaredKey() throws {
        let readme = try String(contentsOfFile: packageRoot + "/experiments/README.md", encoding: .utf8)
        let keysSection = try XCTUnwrap(readme.components(separatedBy: "## Keys and defaults").dropFirst().first)
        let block = try XCTUnwrap(keysSection.components(separatedBy: "```yaml\n").dropFirst().first?
            .components(separatedBy: "```").first)
        let yaml = block.split(separator: "\n", omittingEmptySubsequences: false).map { asYAML(String($0)) }
        let tree = try YAMLParser.parse(yaml.joined(separator: "\n"), file: "experiments/README.md")
        var documented: Set<String> = []
        collectPaths(tree, ConfigSchema.root, under: "", into: &documented)
        let declared = declaredPaths().subtracting(readBeforeDecoding)
        XCTAssertEqual(declared.subtracting(documented), [], "declared but not in experiments/README.md's key list")
        XCTAssertEqual(documented.subtracting(declared), [], "in experiments/README.md's key list but not declared")
        for key in readBeforeDecoding {
            XCTAssertTrue(readme.contains("\n\(key):") || readme.contains("`\(key):"), "README explains \(key):")
        }
    }

    private func asYAML(_ line: String) -> String {
        let indent = String(line.prefix { $0 == " " })
        let text = line.dropFirst(indent.count)
        func isKey(_ s: Substring) -> Bool { !s.isEmpty && s.allSatisfy { $0.isLowercase || $0 == "_" } }
        if text.hasPrefix("# "), let colon = text.firstIndex(of: ":"), isKey(text.dropFirst(2)[..<colon]) {
            return indent + text.dropFirst(2)
        }
        if let colon = text.firstIndex(of: ":"), isKey(text[..<colon]), let comment = text.firstIndex(of: "#"),
           let example = text[comment...].range(of: "e.g. ") {
            return indent + text[..<colon] + ": " + text[example.upperBound...]
        }
        return line
    }

    private func collectPaths(_ node: YAMLNode, _ schema: ConfigSchema, under path: String, into paths: inout Set<String>) {
        switch schema {
        case .value: return
        case .list(let element):
            for item in node.sequence ?? [] { collectPaths(item, element, under: path + ".*", into: &paths) }
        case .section:
            for entry in node.mapping ?? [] {
                let child = path.isEmpty ? entry.key : "\(path).\(entry.key)"
                paths.insert(child)
                if let childSchema = schema.child(entry.key) { collectPaths(entry.value, childSchema, under: child, into: &paths) }
            }
        }
    }
}
