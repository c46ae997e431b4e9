import ArgumentParser
import ChainTypes
import Audit
import Foundation
import PBFT
import HansaConfig

/// Maintainer tools, hidden from the main help.
struct Dev: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Maintainer tools.",
        shouldDisplay: false,
        subcommands: [WriteVectors.self, LedgerWriter.self])

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
}
