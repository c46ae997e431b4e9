import Audit
import ChainTypes
import Foundation
import HansaCrypto
import Ledger
import LevelDBStore
import HansaTestSupport
import Testing

/// Each way of tampering with a chain, in a data directory and in an archive, is caught with
/// the right reason, height and transaction (issue "Audit": done when).
@Suite struct TamperTests {
    let chain = AuditChain.shared

    @Test func untouchedDirectoryAndArchiveVerify() throws {
        let summary = try Verifier(genesis: chain.genesis).verify(try DataDirectorySource(path: chain.directory))
        #expect(summary.blocks == chain.height)
        #expect(summary.transactions > 10)
        #expect(summary.scheduledCalls == 1)
        let fromArchive = try Verifier(genesis: chain.genesis, threads: 1).verify(try ArchiveSource(path: chain.archive))
        #expect(fromArchive.headHash == summary.headHash)
        #expect(fromArchive.stateRoot == summary.stateRoot)
    }

    @Test func anotherGenesisIsRefused() throws {
        var other = chain.genesis
        other.genesisTimeMillis += 1
        #expect(throws: Never.self) { _ = other.hash }
        do {
            _ = try Verifier(genesis: other).verify(try ArchiveSource(path: chain.archive))
            Issue.record("verified against another genesis")
        } catch {
            guard case .discrepancy(let d) = error else { Issue.record("\(error)"); return }
            #expect(d.kind == .wrongChain && d.height == 0)
        }
    }

    // MARK: Data directory

    @Test func flippedByteInATransaction() throws {
        let dir = try chain.tamperedDirectory { store in
            var bytes = try store.get(AuditChain.key("b/", 2))!
            let block = try Block(canonicalBytes: bytes)
            // The last byte of the first transaction's signature.
            let tx = block.transactions[0].encoded
            let at = bytes.count - block.transactions.dropFirst().reduce(0) { $0 + $1.encoded.count } - 1
            #expect(Array(bytes[(at - tx.count + 1)...at]) == tx)
            bytes[at] ^= 0x01
            try chain.put(store, AuditChain.key("b/", 2), bytes)
        }
        let d = try #require(chain.verdict(try DataDirectorySource(path: dir)))
        #expect(d.height == 2)
        #expect(d.transaction?.index == 0)
        #expect(d.kind == .signature || d.kind == .undecodable, "\(d)")
    }

    @Test func missingCertificateSignature() throws {
        let dir = try chain.tamperedDirectory { store in
            var c = try chain.certificate(at: 4, in: store)
            c.signers.removeLast()
            try chain.put(store, AuditChain.key("c/", 4), c.canonicalBytes)
        }
        let d = try #require(chain.verdict(try DataDirectorySource(path: dir)))
        #expect(d.kind == .certificate && d.height == 4, "\(d)")
        #expect(d.message.contains("2 commit signatures"))
    }

    @Test func replacedBlock() throws {
        let dir = try chain.tamperedDirectory { store in
            let (block, certificate) = chain.forkBlock
            let h = AuditChain.forkHeight
            try chain.put(store, AuditChain.key("b/", h), block.canonicalBytes)
            try chain.put(store, AuditChain.key("c/", h), certificate.canonicalBytes)
            try chain.put(store, AuditChain.key("r/", h), chain.forkReceipts)
            try chain.put(store, Array("h/".utf8) + block.hash.bytes, AuditChain.key("", h))
            for (i, tx) in block.transactions.enumerated() {
                try chain.put(store, Array("t/".utf8) + tx.hash.bytes, AuditChain.key("", h) + AuditChain.key("", UInt64(i)))
            }
        }
        let d = try #require(chain.verdict(try DataDirectorySource(path: dir)))
        #expect(d.kind == .previousHash && d.height == AuditChain.forkHeight + 1, "\(d)")
    }

    @Test func blockResignedByANonValidator() throws {
        let outsiders = (0..<3).map { DevChain.key("audit outsider \($0)") }
        let dir = try chain.tamperedDirectory { store in
            let block = try chain.block(at: 2, in: store)
            let forged = chain.certificate(for: block, keys: outsiders, indices: [0, 1, 2])
            try chain.put(store, AuditChain.key("c/", 2), forged.canonicalBytes)
        }
        let d = try #require(chain.verdict(try DataDirectorySource(path: dir)))
        #expect(d.kind == .certificate && d.height == 2, "\(d)")
        #expect(d.message.contains("validator 0"))
    }

    @Test func reorderedTransactions() throws {
        let h = AuditChain.busyHeight
        let dir = try chain.tamperedDirectory { store in
            let block = try chain.block(at: h, in: store)
            var txs = block.transactions
            txs.swapAt(0, 1)
            try chain.put(store, AuditChain.key("b/", h), Block(header: block.header, transactions: txs).canonicalBytes)
        }
        let d = try #require(chain.verdict(try DataDirectorySource(path: dir)))
        #expect(d.kind == .transactionsRoot && d.height == h, "\(d)")
    }

    @Test func alteredReceipt() throws {
        let dir = try chain.tamperedDirectory { store in
            var list = try ReceiptList(canonicalBytes: try store.get(AuditChain.key("r/", 2))!)
            list.receipts[1].gasUsed += 1
            try chain.put(store, AuditChain.key("r/", 2), list.canonicalBytes)
        }
        let d = try #require(chain.verdict(try DataDirectorySource(path: dir)))
        #expect(d.kind == .receipt && d.height == 2 && d.transaction?.index == 1, "\(d)")
        #expect(d.message.contains("gas used"))
    }

    @Test func changedStateValue() throws {
        let address = DevChain.key("user 3").publicKey.address
        let key = Array("v/".utf8) + StateKey.hash(StateKey.account(address)).bytes
        let dir = try chain.tamperedDirectory { store in
            var account = try Account(canonicalBytes: try store.get(key)!)
            account.setBalance(try CurrencyCode("USD"), 1)
            try chain.put(store, key, account.canonicalBytes)
        }
        let d = try #require(chain.verdict(try DataDirectorySource(path: dir)))
        #expect(d.kind == .storedState && d.height == chain.height, "\(d)")
    }

    @Test func changedStateTreePage() throws {
        let dir = try chain.tamperedDirectory { store in
            var root = try store.get(Array("n/".utf8) + [0])!
            root[root.count - 1] ^= 0x80
            try chain.put(store, Array("n/".utf8) + [0], root)
        }
        let d = try #require(chain.verdict(try DataDirectorySource(path: dir)))
        #expect(d.kind == .storedState && d.message.contains("state-tree page"), "\(d)")
    }

    @Test func brokenTransactionIndex() throws {
        let dir = try chain.tamperedDirectory { store in
            let block = try chain.block(at: 2, in: store)
            try chain.put(store, Array("t/".utf8) + block.transactions[1].hash.bytes, AuditChain.key("", 2) + AuditChain.key("", 0))
        }
        let d = try #require(chain.verdict(try DataDirectorySource(path: dir)))
        #expect(d.kind == .index && d.height == 2 && d.transaction?.index == 1, "\(d)")
    }

    @Test func developmentDirectoryIsNamed() throws {
        let dir = try chain.tamperedDirectory { store in try chain.put(store, DataDirectorySource.developmentKey, Array("hansa dev ledger-writer".utf8)) }
        let d = try #require(chain.verdict(try DataDirectorySource(path: dir)))
        #expect(d.kind == .development, "\(d)")
    }

    // MARK: Archive

    @Test func archiveTampering() throws {
        let blocks = try chain.archiveBlocks()
        func edited(_ h: UInt64, _ change: (inout SourceBlock) throws -> Void) throws -> Discrepancy? {
            var copy = blocks
            try change(&copy[Int(h) - 1])
            return chain.verdict(try ArchiveSource(path: try chain.archive(of: copy)))
        }
        func replace(_ b: SourceBlock, block: [UInt8]? = nil, certificate: [UInt8]? = nil, receipts: [UInt8]? = nil) -> SourceBlock {
            SourceBlock(height: b.height, block: block ?? b.block, certificate: certificate ?? b.certificate, receipts: receipts ?? b.receipts)
        }
        // A flipped byte in a transaction's signature.
        var d = try #require(try edited(2) { b in
            var bytes = b.block
            let block = try Block(canonicalBytes: bytes)
            bytes[bytes.count - block.transactions.dropFirst().reduce(0) { $0 + $1.encoded.count } - 1] ^= 0x01
            b = replace(b, block: bytes)
        })
        #expect(d.height == 2 && d.transaction?.index == 0, "\(d)")
        // A certificate signature missing.
        d = try #require(try edited(4) { b in
            var c = try CommitCertificate(canonicalBytes: b.certificate!)
            c.signers.removeFirst()
            b = replace(b, certificate: c.canonicalBytes)
        })
        #expect(d.kind == .certificate && d.height == 4, "\(d)")
        // A replaced block with its own valid certificate and receipts.
        d = try #require(try edited(AuditChain.forkHeight) { b in
            b = replace(b, block: chain.forkBlock.block.canonicalBytes, certificate: chain.forkBlock.certificate.canonicalBytes,
                        receipts: chain.forkReceipts)
        })
        #expect(d.kind == .previousHash && d.height == AuditChain.forkHeight + 1, "\(d)")
        // A block re-signed by keys outside the validator set.
        d = try #require(try edited(5) { b in
            let block = try Block(canonicalBytes: b.block)
            let forged = chain.certificate(for: block, keys: (0..<3).map { DevChain.key("audit outsider \($0)") }, indices: [1, 2, 3])
            b = replace(b, certificate: forged.canonicalBytes)
        })
        #expect(d.kind == .certificate && d.height == 5, "\(d)")
        // Reordered transactions.
        d = try #require(try edited(AuditChain.busyHeight) { b in
            let block = try Block(canonicalBytes: b.block)
            b = replace(b, block: Block(header: block.header, transactions: block.transactions.reversed()).canonicalBytes)
        })
        #expect(d.kind == .transactionsRoot && d.height == AuditChain.busyHeight, "\(d)")
        // An altered receipt: a scheduled call's.
        d = try #require(try edited(chain.scheduledHeight) { b in
            var list = try ReceiptList(canonicalBytes: b.receipts!)
            list.receipts[0].events.removeAll()
            b = replace(b, receipts: list.canonicalBytes)
        })
        #expect(d.kind == .receipt && d.height == chain.scheduledHeight && d.transaction == nil, "\(d)")
        #expect(d.message.contains("scheduled call 0"))
        // A block left out.
        var gap = blocks
        gap.remove(at: 2)
        d = try #require(chain.verdict(try ArchiveSource(path: try chain.archive(of: gap.enumerated().map {
            SourceBlock(height: UInt64($0.offset + 1), block: $0.element.block, certificate: $0.element.certificate, receipts: $0.element.receipts)
        }))))
        #expect(d.height == 3 && (d.kind == .previousHash || d.kind == .height), "\(d)")
    }

    @Test func truncatedArchive() throws {
        let bytes = try Data(contentsOf: URL(fileURLWithPath: chain.archive))
        let path = AuditChain.base + "/cut-\(UUID().uuidString)"
        try bytes.prefix(bytes.count - 40).write(to: URL(fileURLWithPath: path))
        do {
            _ = try Verifier(genesis: chain.genesis).verify(try ArchiveSource(path: path))
            Issue.record("a cut archive verified")
        } catch {
            #expect("\(error)".contains("ends inside") || "\(error)".contains("cut short"), "\(error)")
        }
    }
}

/// Rules a quorum of validators could break by certifying a bad header: the auditor still
/// refuses it.
@Suite struct CertifiedButInvalidTests {
    let chain = AuditChain.shared

    /// The archive with block `h`'s header changed by `edit` and re-certified by a quorum.
    func verdict(at h: UInt64, view: UInt64 = 0, _ edit: (inout BlockHeader) -> Void) throws -> Discrepancy? {
        var blocks = try chain.archiveBlocks()
        let old = try Block(canonicalBytes: blocks[Int(h) - 1].block)
        var header = old.header
        edit(&header)
        let block = Block(header: header, transactions: old.transactions)
        let certificate = chain.certificate(for: block, keys: Array(chain.validatorKeys.prefix(3)), indices: [0, 1, 2], view: view)
        blocks[Int(h) - 1] = SourceBlock(height: h, block: block.canonicalBytes, certificate: certificate.canonicalBytes,
                                         receipts: blocks[Int(h) - 1].receipts)
        return chain.verdict(try ArchiveSource(path: try chain.archive(of: blocks)))
    }

    @Test func aProposerThatWasNotThePrimary() throws {
        let d = try #require(try verdict(at: 2) { $0.proposer = chain.genesis.validators.validators[1].address })
        #expect(d.kind == .proposer && d.height == 2, "\(d)")
    }

    @Test func aTimeNotAfterTheParent() throws {
        let parent = try Block(canonicalBytes: try chain.archiveBlocks()[0].block).header.timestampMillis
        let d = try #require(try verdict(at: 2) { $0.timestampMillis = parent })
        #expect(d.kind == .timestamp && d.height == 2, "\(d)")
    }

    @Test func aCertificateFromAnEarlierView() throws {
        let d = try #require(try verdict(at: 2, view: 0) {
            $0.view = 5
            $0.proposer = chain.genesis.validators.validators[5 % 4].address
        })
        #expect(d.kind == .certificate && d.message.contains("before the view"), "\(d)")
    }

    @Test func aWrongStateRoot() throws {
        let d = try #require(try verdict(at: 3) { $0.stateRoot = SHA256.hash(utf8: "another state") })
        #expect(d.kind == .stateRoot && d.height == 3, "\(d)")
    }

    @Test func aWrongReceiptsRoot() throws {
        let d = try #require(try verdict(at: 3) { $0.receiptsRoot = SHA256.hash(utf8: "other receipts") })
        #expect(d.kind == .receiptsRoot && d.height == 3, "\(d)")
    }
}

/// A damaged archive — a byte flipped anywhere, cut anywhere, bytes inserted — gives a typed
/// verdict (a discrepancy or an unreadable source), never a crash or a false "verified".
@Suite struct ArchiveDamageTests {
    @Test func randomDamageIsAlwaysReported() throws {
        let chain = AuditChain.shared
        let original = [UInt8](try Data(contentsOf: URL(fileURLWithPath: chain.archive)))
        var rng = SplitMix64(seed: 13)
        var verdicts: [String: Int] = [:]
        for round in 0..<120 {
            var bytes = original
            switch round % 3 {
            case 0: bytes[Int.random(in: 0..<bytes.count, using: &rng)] ^= UInt8.random(in: 1...255, using: &rng)
            case 1: bytes.removeLast(Int.random(in: 1..<bytes.count, using: &rng))
            default: bytes.insert(UInt8.random(in: 0...255, using: &rng), at: Int.random(in: 0..<bytes.count, using: &rng))
            }
            let path = AuditChain.base + "/damaged-\(round)"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            do {
                _ = try Verifier(genesis: chain.genesis).verify(try ArchiveSource(path: path))
                // A flip inside a signature's padding or an unused bit cannot exist in canonical
                // encodings, so every change must be seen.
                Issue.record("round \(round): a damaged archive verified")
            } catch {
                switch error {
                case .discrepancy(let d): verdicts[d.kind.rawValue, default: 0] += 1
                case .source: verdicts["source", default: 0] += 1
                }
            }
        }
        #expect(verdicts.values.reduce(0, +) == 120)
        #expect(verdicts.count > 3, "\(verdicts)")
    }
}
