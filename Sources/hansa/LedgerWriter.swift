import ArgumentParser
import ChainTypes
import Audit
import Foundation
import Ledger
import LevelDBStore

/// `hansa dev ledger-writer`: applies dev-chain blocks to a LevelDB ledger as fast as it can,
/// resuming from the head. The crash test kills it with SIGKILL at random moments and
/// checks that the directory always reopens at a whole block.
struct LedgerWriter: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "ledger-writer",
                                                    abstract: "Write dev-chain blocks to a LevelDB ledger (crash testing).")

    @Option(help: "The data directory.")
    var dataDir: String

    @Option(help: "Stop after this many blocks in total.")
    var blocks: UInt64 = 1_000

    @Option(help: "Transfers per block.")
    var transfers: Int = 50

    func run() throws {
        let dev = DevChain(users: 64)
        let store = try LevelDBLedgerStore(path: dataDir)
        let ledger = try Ledger(store: store, genesis: dev.genesis)
        // Its transfers carry placeholder signatures, which the rules refuse: the directory says
        // so, and `hansa audit verify` names it a development directory instead of a forgery.
        var mark = StoreBatch()
        mark.put(DataDirectorySource.developmentKey, Array("written by hansa dev ledger-writer".utf8))
        try store.write(mark, sync: true)
        ledger.setSignatureChecks(false)
        try dev.writeTransferBlocks(to: ledger, until: blocks, transfersPerBlock: transfers) { height in
            FileHandle.standardOutput.write(Data("applied \(height)\n".utf8))
        }
    }
}
