import ArgumentParser
import ChainTypes
import Foundation
import HansaConfig

/// The `hansa` command-line tool. Each subcommand lives in its own file.
@main
struct Hansa: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hansa",
        abstract: "Hansa: a permissioned PBFT blockchain for trade finance.",
        discussion: """
        Banks run validator nodes from a genesis file; exporters, importers, carriers and \
        inspectors submit signed transactions; auditors verify the history offline.
        `hansa node init` prepares a node's home and `hansa node run` runs it; `hansa lc`, \
        `hansa event`, `hansa tx` and `hansa watch` work through a node's JSON-RPC, and \
        `hansa audit verify` checks a whole chain from the genesis file (README.md).
        """,
        version: "0.1.0",
        subcommands: [Keygen.self, GenesisCommand.self, NodeCommand.self, ContractCommand.self, ChainCommand.self, AccountCommand.self,
                      TxCommand.self, CreditCommand.self, EventCommand.self, WatchCommand.self, RPCCommand.self, AuditCommand.self, ExportCommand.self, Demo.self, Sim.self, Bench.self, Chaos.self, Dev.self])
}

/// Errors the CLI reports as one line on standard error, then exits with status 1.
struct CLIError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// Milliseconds since the Unix epoch from the system clock (the CLI is the edge: the core
/// never reads the clock).
func systemNowMillis() -> UInt64 { UInt64(Date().timeIntervalSince1970 * 1000) }
