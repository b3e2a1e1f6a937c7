import ArgumentParser
import Nets

struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time training steps of a UNet.")
    func run() throws { print("threads: \(Threads.count)") }
}
