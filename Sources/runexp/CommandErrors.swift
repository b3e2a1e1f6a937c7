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

    /// Runs `body`: a config error exits 2 (`loadingConfig`); any other error is printed as it
    /// is (`hint` may add to it) and exits 1.
    static func failing<T>(hint: (Error) -> String? = { _ in nil }, _ body: () throws -> T) throws -> T {
        do {
            return try loadingConfig(body)
        } catch let exit as ExitCode {
            throw exit
        } catch {
            print("\(error)" + (hint(error).map { " (\($0))" } ?? ""))
            throw ExitCode(1)
        }
    }
}
