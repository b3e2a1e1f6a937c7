import XCTest
@testable import Experiments

final class VersionTests: XCTestCase {
    func testVersionIsSemantic() {
        XCTAssertEqual(runexpVersion.split(separator: ".").count, 3)
    }
}
