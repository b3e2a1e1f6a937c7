import ArgumentParser
import Experiments
import Foundation

/// How the commands report failures: config errors one `file:LINE:COL: message` line each
/// and exit status 2 (as `run` does); other errors one line on stderr.
enum CommandErrors {
    /// Writes one or more lines to stderr.
    static func print(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }

    /// Prints `errors` and gives the status a config error exits with.
    static func config(_ errors: ConfigErrors) -> ExitCode {
        print(errors.description)
        return ExitCode(2)
    }

    /// Runs `body`, turning a config error (from loading or from building the run) into exit 2.
    static func loadingConfig<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let errors as ConfigErrors {
            throw config(errors)
        } catch let error as ConfigError {
            throw config(ConfigErrors([error]))
        }
    }
}
