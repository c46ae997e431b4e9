import Audit
import ChainTypes
import ContractVM
import Foundation
import HansaConfig
import HansaCrypto
import HansaTestSupport
import Ledger
import LevelDBStore
import TradeFinance

/// A small chain for the auditor's tests, written once into a LevelDB data directory and an
/// archive: transfers among users, a letter of credit issued, funded, advised and shipped,
/// and the credit's scheduled expiry run at the start of the last block. Tests copy the
/// directory or the archive, tamper with the copy, and check what the auditor says.
final class AuditChain: @unchecked Sendable {
    static let shared = try! AuditChain()

    let directory: String
    let archive: String
    /// The genesis as a JSON file, for the command-line tests.
    let genesisFile: String
    let genesis: Genesis
    let validatorKeys: [PrivateKey]
    /// A different block at `forkHeight`, committed by the validators on the same chain
    /// before it (an equivocating quorum's replacement).
    let forkBlock: (block: Block, certificate: CommitCertificate)
    /// The fork block's receipts as a node stores them.
    let forkReceipts: [UInt8]
    static let forkHeight: UInt64 = 3
    let height: UInt64
    /// Heights of blocks holding several transfers (for reordering).
    static let busyHeight: UInt64 = 5
    /// The height whose first receipts are the scheduled expiry's.
    let scheduledHeight: UInt64

    static let day: UInt64 = 86_400_000
    static let base = NSTemporaryDirectory() + "hansa-audit-\(UUID().uuidString)"

    /// The chain's blocks, as (time offset from the start, transactions) built on `chain`.
    static func steps(_ chain: TradeDevChain, code: [UInt8], loc: LetterOfCredit) -> [(UInt64, () -> [Transaction])] {
        let a = { (k: PrivateKey) in ABIValue.address(k.publicKey.address) }
        let users = chain.dev.userKeys
        func pay(_ from: Int, _ to: Int, _ amount: UInt64) -> Transaction {
            chain.tx(users[from], .transfer, TransferPayload(to: users[to].publicKey.address, currency: chain.dev.usd, amount: amount),
                     gas: GasSchedule.transfer)
        }
        let credit = Executor.contractAddress(deployer: chain.issuingBank.publicKey.address, nonce: 0)
        let start = chain.time + 60_000
        return [
            (start, {
                let (deploy, _) = chain.deploy(code, [
                    a(chain.importer), a(chain.exporter), a(chain.advisingBank), a(chain.advisingBank), a(chain.carrier), .string("USD"),
                    .int(250_000_00), .int(5_000), .int(Int64(start + 60 * day)), .int(Int64(start + 30 * day)), .int(21), .int(0),
                    .string("CNSHA"), .string("NLRTM"), .int(loc.bits("DOC_INVOICE", "DOC_TRANSPORT")), .int(loc.bits("NAMED_CARRIER"))])
                return [deploy, pay(0, 1, 100), pay(1, 2, 200)]
            }),
            (start + 1_000, { [chain.call(chain.importer, credit, "fund", value: 250_000_00), pay(2, 3, 300)] }),
            (start + day, { [chain.call(chain.advisingBank, credit, "advise"), pay(3, 4, 400), pay(4, 5, 500)] }),
            (start + 2 * day, {
                [chain.call(chain.carrier, credit, "shipping_event", [.string("MAEU-1"), .string("LOAD"), .string("ACT"),
                                                                     .string("CNSHA"), .string("MAERSK ESSEN"), .int(Int64(start + 2 * day))])]
            }),
            (start + 3 * day, { (0..<6).map { pay($0, ($0 + 1) % 8, 10 + UInt64($0)) } }),
            (start + 61 * day, { [pay(7, 0, 1)] }),
        ]
    }

    init() throws {
        let loc = try LetterOfCredit.compile(repositoryRoot() + "/contracts/letter_of_credit.hc")
        let code = loc.compiled.bytecode
        let base = Self.base
        try FileManager.default.createDirectory(atPath: base, withIntermediateDirectories: true)
        // Everything the tests make lives under `base`, removed when the test process exits.
        atexit { try? FileManager.default.removeItem(atPath: AuditChain.base) }
        directory = base + "/data"
        archive = base + "/chain.hansa-archive"
        genesisFile = base + "/genesis.json"
        var built: (Genesis, [PrivateKey], UInt64, UInt64) = (DevChain(users: 0).genesis, [], 0, 0)
        do {
            let chain = try TradeDevChain(store: try LevelDBLedgerStore(path: directory), importerDeposit: 1_000_000_00, users: 8)
            var scheduled: UInt64 = 0
            for (time, txs) in Self.steps(chain, code: code, loc: loc) {
                let receipts = try chain.commit(txs(), at: time)
                precondition(receipts.allSatisfy(\.succeeded), "the fixture's transactions succeed: \(receipts)")
                if !chain.lastScheduled.isEmpty { scheduled = chain.ledger.head.height }
            }
            precondition(scheduled > 0, "the credit's expiry ran")
            built = (chain.genesis, chain.dev.validatorKeys, chain.ledger.head.height, scheduled)
        }
        (genesis, validatorKeys, height, scheduledHeight) = built
        // The fork: the same chain to forkHeight − 1, then another block.
        let twin = try TradeDevChain(store: MemoryStore(), importerDeposit: 1_000_000_00, users: 8)
        let steps = Self.steps(twin, code: code, loc: loc)
        for (time, txs) in steps.prefix(Int(Self.forkHeight) - 1) { try twin.commit(txs(), at: time) }
        let other = twin.tx(twin.dev.userKeys[6], .transfer,
                            TransferPayload(to: twin.dev.userKeys[7].publicKey.address, currency: twin.dev.usd, amount: 999), gas: GasSchedule.transfer)
        forkBlock = try twin.dev.nextBlock(on: twin.ledger, [other], timestampMillis: steps[Int(Self.forkHeight) - 1].0)
        try twin.ledger.apply(forkBlock.block, certificate: forkBlock.certificate)
        forkReceipts = try twin.ledger.store.get(Self.key("r/", Self.forkHeight))!
        try Archive.export(from: try DataDirectorySource(path: directory), genesis: genesis, to: archive)
        try GenesisFile.write(genesis, to: genesisFile)
    }

    // MARK: Copies to tamper with

    /// A copy of the data directory.
    func directoryCopy() throws -> String {
        let copy = Self.base + "/copy-\(UUID().uuidString)"
        try FileManager.default.copyItem(atPath: directory, toPath: copy)
        return copy
    }

    /// A copy of the data directory changed by `edit` on its store.
    func tamperedDirectory(_ edit: (LevelDBLedgerStore) throws -> Void) throws -> String {
        let copy = try directoryCopy()
        try edit(try LevelDBLedgerStore(path: copy))
        return copy
    }

    /// The archive's blocks as stored, to change and write back.
    func archiveBlocks() throws -> [SourceBlock] {
        let source = try ArchiveSource(path: archive)
        var blocks: [SourceBlock] = []
        while let b = try source.next() { blocks.append(b) }
        return blocks
    }

    /// An archive of `blocks` (as changed by a test).
    func archive(of blocks: [SourceBlock]) throws -> String {
        let path = Self.base + "/edited-\(UUID().uuidString).hansa-archive"
        let writer = try Archive.Writer(path: path, genesis: genesis, lastHeight: UInt64(blocks.count))
        for b in blocks {
            let hash = (try? Block(canonicalBytes: b.block).hash) ?? .zero
            try writer.append(height: b.height, block: b.block, certificate: b.certificate ?? [], receipts: b.receipts ?? [], hash: hash)
        }
        try writer.finish()
        return path
    }

    // MARK: Values

    static func key(_ prefix: String, _ height: UInt64) -> [UInt8] { Array(prefix.utf8) + (0..<8).map { UInt8(truncatingIfNeeded: height >> UInt64(56 - 8 * $0)) } }

    func block(at height: UInt64, in store: LevelDBLedgerStore) throws -> Block { try Block(canonicalBytes: try store.get(Self.key("b/", height))!) }

    func certificate(at height: UInt64, in store: LevelDBLedgerStore) throws -> CommitCertificate {
        try CommitCertificate(canonicalBytes: try store.get(Self.key("c/", height))!)
    }

    func put(_ store: LevelDBLedgerStore, _ key: [UInt8], _ value: [UInt8]) throws {
        var batch = StoreBatch()
        batch.put(key, value)
        try store.write(batch, sync: true)
    }

    /// A certificate for `block` signed by `keys` as validators `indices`.
    func certificate(for block: Block, keys: [PrivateKey], indices: [UInt16], view: UInt64 = 0) -> CommitCertificate {
        CommitCertificate(votes: zip(keys, indices).map { key, index in
            Vote.make(phase: .commit, view: view, height: block.header.height, blockHash: block.hash, validatorIndex: index,
                      chain: genesis.binding, key: key)
        })
    }

    /// What the auditor says about `source`: nil when it verifies.
    func verdict(_ source: @autoclosure () throws -> AuditSource) -> Discrepancy? {
        do {
            _ = try Verifier(genesis: genesis).verify(try source())
            return nil
        } catch {
            if case .discrepancy(let d) = error as? AuditError { return d }
            return Discrepancy(.undecodable, height: UInt64.max, "not a discrepancy: \(error)")
        }
    }
}
