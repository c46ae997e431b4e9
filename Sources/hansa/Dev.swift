import ArgumentParser
import ChainTypes
import Audit
import Foundation
import PBFT
import HansaConfig
import Node

/// Maintainer tools, hidden from the main help.
struct Dev: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Maintainer tools.",
        shouldDisplay: false,
        subcommands: [WriteVectors.self, LedgerWriter.self, FreePorts.self])

    struct WriteVectors: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Regenerate docs/vectors/ (JSON vectors, the vector chain's genesis file and archive) from the fixed test keys.")

        @Option(help: "Output directory.")
        var out: String = "docs/vectors"

        @Option(help: "The letter-of-credit source the vector chain deploys.")
        var contract: String = "contracts/letter_of_credit.hc"

        func run() throws {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            let chain = try ChainVectors.build(contractSource: contract)
            let keys = ChainVectors.validatorKeys(chain.genesis)
            let consensus = ConsensusVectors.json(chain: chain.genesis.binding, blocks: chain.steps.prefix(2).map(\.block),
                                                  certificate: chain.steps[0].certificate, keys: keys)
            for (name, data) in ProtocolVectors.files() + (try ChainVectors.files(chain))
                + [("consensus.json", ProtocolVectors.jsonData(consensus))] {
                let path = (out as NSString).appendingPathComponent(name)
                try data.write(to: URL(fileURLWithPath: path))
                print("wrote \(path)")
            }
        }
    }

    struct FreePorts: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Print N distinct TCP ports free on 127.0.0.1 a moment ago (below the ephemeral range), one per line: scripts/localnet's ports.")

        @Argument(help: "How many ports.")
        var count: Int

        func run() throws {
            guard (1...64).contains(count) else { throw CLIError("count: expected 1 to 64, not \(count)") }
            for port in try LoopbackPorts.free(count) { print(port) }
        }
    }
}
