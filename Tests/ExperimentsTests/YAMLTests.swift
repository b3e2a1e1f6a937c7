import XCTest
@testable import Experiments

/// The YAML layer: scalar resolution, positions (1-based line:column, as editors show
/// them, checked by hand against the test text), anchors, merge keys, duplicate keys and
/// libyaml's own error messages and positions.
final class YAMLTests: XCTestCase {
    func parse(_ text: String) throws -> YAMLNode { try YAMLParser.parse(text, file: "t.yaml") }

    func errors(_ text: String) -> [String] {
        do { _ = try YAMLParser.parse(text, file: "t.yaml"); return [] } catch { return error.errors.map(\.description) }
    }

    func value(_ text: String) throws -> YAMLValue? { try parse("v: \(text)")["v"]?.scalar?.value }

    func testScalarResolution() throws {
        XCTAssertEqual(try value("42"), .int(42))
        XCTAssertEqual(try value("-7"), .int(-7))
        XCTAssertEqual(try value("10_000"), .int(10_000))
        XCTAssertEqual(try value("0x1F"), .int(31))
        XCTAssertEqual(try value("0o17"), .int(15))
        XCTAssertEqual(try value("1.0e-4"), .double(1.0e-4))
        XCTAssertEqual(try value("1e-4"), .double(1e-4))  // a string in YAML 1.1 / PyYAML
        XCTAssertEqual(try value("1E+3"), .double(1000))
        XCTAssertEqual(try value("0.5"), .double(0.5))
        XCTAssertEqual(try value(".5"), .double(0.5))
        XCTAssertEqual(try value("3."), .double(3))
        XCTAssertEqual(try value(".inf"), .double(.infinity))
        XCTAssertEqual(try value("-.Inf"), .double(-.infinity))
        guard case .double(let nan)? = try value(".nan") else { return XCTFail("nan") }
        XCTAssertTrue(nan.isNaN)
        XCTAssertEqual(try value("true"), .bool(true))
        XCTAssertEqual(try value("False"), .bool(false))
        XCTAssertEqual(try value("null"), .null)
        XCTAssertEqual(try value("~"), .null)
        XCTAssertEqual(try value(""), .null)
        XCTAssertEqual(try value("yes"), .string("yes"))  // YAML 1.2: not a bool
        XCTAssertEqual(try value("1e"), .string("1e"))
        XCTAssertEqual(try value("nan"), .string("nan"))
        XCTAssertEqual(try value("1.2.3"), .string("1.2.3"))
        XCTAssertEqual(try value("data/DRIVE"), .string("data/DRIVE"))
    }

    func testQuotedScalarsStayStrings() throws {
        let node = try parse("a: '42'\nb: \"true\"\nc: 'null'\nd: |\n  12\n")
        XCTAssertEqual(node["a"]?.scalar?.value, .string("42"))
        XCTAssertEqual(node["a"]?.scalar?.style, .singleQuoted)
        XCTAssertEqual(node["b"]?.scalar?.value, .string("true"))
        XCTAssertEqual(node["c"]?.scalar?.value, .string("null"))
        XCTAssertEqual(node["d"]?.scalar?.value, .string("12\n"))
        XCTAssertEqual(node["d"]?.scalar?.style, .literal)
    }

    func testTags() throws {
        let node = try parse("a: !!str 42\nb: !!float 1\nc: !!int 7\n")
        XCTAssertEqual(node["a"]?.scalar?.value, .string("42"))
        XCTAssertEqual(node["b"]?.scalar?.value, .double(1))
        XCTAssertEqual(node["c"]?.scalar?.value, .int(7))
        XCTAssertEqual(errors("a: !!int abc\n"), ["t.yaml:1:4: 'abc' is not a valid !!int"])
        XCTAssertEqual(errors("a: !custom x\n"), ["t.yaml:1:4: unsupported tag '!custom'"])
    }

    func testLocationsAndKeyOrder() throws {
        let text = """
        name: demo
        model:
          base_c: 32
          upsample: bilinear
        data: {mean: [0.1, 0.2], crop: 480}
        """
        let root = try parse(text)
        XCTAssertEqual(root.mapping?.map(\.key), ["name", "model", "data"])
        XCTAssertEqual(root.location, SourceLocation(file: "t.yaml", line: 1, column: 1))
        XCTAssertEqual(root.entry("model")?.keyLocation, SourceLocation(file: "t.yaml", line: 2, column: 1))
        XCTAssertEqual(root["model"]?.location, SourceLocation(file: "t.yaml", line: 3, column: 3))
        XCTAssertEqual(root["model"]?["upsample"]?.location, SourceLocation(file: "t.yaml", line: 4, column: 13))
        XCTAssertEqual(root["data"]?.location, SourceLocation(file: "t.yaml", line: 5, column: 7))
        let mean = try XCTUnwrap(root["data"]?["mean"]?.sequence)
        XCTAssertEqual(mean[1].location, SourceLocation(file: "t.yaml", line: 5, column: 20))
        XCTAssertEqual(mean[1].scalar?.value, .double(0.2))
        XCTAssertEqual(root["data"]?["crop"]?.location.description, "t.yaml:5:32")
    }

    func testAnchorsAliasesAndMergeKeys() throws {
        let text = """
        common: &c {lr: 0.01, momentum: 0.9}
        a: *c
        b:
          <<: *c
          lr: 0.1
        """
        let root = try parse(text)
        XCTAssertEqual(root["a"], root["common"])
        XCTAssertEqual(root["a"]?.location.line, 1)  // an alias reports where its value is written
        XCTAssertEqual(root["b"]?.mapping?.map(\.key), ["momentum", "lr"])
        XCTAssertEqual(root["b"]?["lr"]?.scalar?.value, .double(0.1))
        XCTAssertEqual(root["b"]?["momentum"]?.scalar?.value, .double(0.9))
        XCTAssertEqual(errors("a: *nowhere\n"), ["t.yaml:1:4: undefined alias '*nowhere'"])
    }

    func testAliasBombIsRefused() {
        var text = "a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n"
        for i in 1...7 { text += "a\(i): &a\(i) [" + Array(repeating: "*a\(i - 1)", count: 10).joined(separator: ", ") + "]\n" }
        let found = errors(text)
        XCTAssertEqual(found.count, 1)
        XCTAssertTrue(found.first?.contains("aliases expand to more than") == true, "\(found)")
    }

    func testDeepNestingIsAnErrorNotACrash() {
        XCTAssertEqual(errors(String(repeating: "[", count: 100_000)), ["t.yaml:1:201: YAML nested more than 200 levels deep"])
    }

    func testDuplicateKeysAreErrors() {
        XCTAssertEqual(errors("model:\n  lr: 1\n  base_c: 2\n  lr: 3\n"),
                       ["t.yaml:4:3: duplicate key 'lr' (first given at line 2, column 3)"])
    }

    func testMalformedYAMLReportsLibyamlProblemAndPosition() {
        // Positions are libyaml's problem marks: the unclosed flow sequence is noticed at
        // the next line's key, the tab where a token should start.
        XCTAssertEqual(errors("a: [1, 2\nb: 3\n"),
                       ["t.yaml:2:2: did not find expected ',' or ']' (while parsing a flow sequence at line 1, column 4)"])
        XCTAssertEqual(errors("a:\n\tb: 1\n"),
                       ["t.yaml:2:1: found character that cannot start any token (while scanning for the next token at line 2, column 1)"])
        XCTAssertEqual(errors("a: 1\n b: 2\n"),
                       ["t.yaml:2:3: mapping values are not allowed in this context"])
        XCTAssertEqual(errors("a: 'open\n"),
                       ["t.yaml:2:1: found unexpected end of stream (while scanning a quoted scalar at line 1, column 4)"])
        XCTAssertEqual(errors("a: 1\n---\nb: 2\n"),
                       ["t.yaml:2:1: a config file holds one YAML document; found a second '---' document"])
    }

    func testEmptyDocumentIsNull() throws {
        XCTAssertTrue(try parse("").isNull)
        XCTAssertTrue(try parse("# only a comment\n").isNull)
    }

    func testWriterStringsReadBackUnchanged() throws {
        for s in ["plain", "data/DRIVE", "true", "null", "42", "1e-4", "", "a: b", "- x", "it's", "tab\there", "quote\"d", "#x", "~", "yes"] {
            let text = "v: \(yamlString(s))\n"
            XCTAssertEqual(try parse(text)["v"]?.scalar?.value, .string(s), text)
        }
        for d in [0.01, 1e-4, 1e-5, 200.0, 0.9, 1e300, -2.5, Double.infinity, Double.leastNonzeroMagnitude] {
            XCTAssertEqual(try value(yamlNumber(d)), .double(d), "\(d)")
        }
    }
}
