import ArgumentParser
import ChainTypes
import Foundation
import HansaConfig

/// Maintainer tools, hidden from the main help.
struct Dev: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Maintainer tools.",
        shouldDisplay: false,
        subcommands: [WriteVectors.self, LedgerWriter.self])

    struct WriteVectors: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Regenerate docs/vectors/*.json from the fixed test keys.")

        @Option(help: "Output directory.")
        var out: String = "docs/vectors"

        func run() throws {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            for (name, data) in ProtocolVectors.files() {
                let path = (out as NSString).appendingPathComponent(name)
                try data.write(to: URL(fileURLWithPath: path))
                print("wrote \(path)")
            }
        }
    }
}
