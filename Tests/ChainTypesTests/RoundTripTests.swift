import Testing
import ChainTypes
import HansaCrypto

/// Every accepted byte string is the one canonical form of its value (docs/PROTOCOL.md §1):
/// decode(encode(v)) == v, encode(decode(x)) == x, and no proper prefix of an encoding decodes.
@Suite("Canonical round trips")
struct RoundTripTests {
    /// One top-level type, decoded from a whole buffer and re-encoded.
    enum Kind: String, Sendable, CaseIterable, CustomTestStringConvertible {
        case transaction, blockHeader, block, vote, certificate, genesis

        var testDescription: String { rawValue }

        /// Decodes `bytes` and returns the re-encoding.
        func reencode(_ bytes: [UInt8]) throws(DecodeError) -> [UInt8] {
            switch self {
            case .transaction: try Transaction(canonicalBytes: bytes).canonicalBytes
            case .blockHeader: try BlockHeader(canonicalBytes: bytes).canonicalBytes
            case .block: try Block(canonicalBytes: bytes).canonicalBytes
            case .vote: try Vote(canonicalBytes: bytes).canonicalBytes
            case .certificate: try CommitCertificate(canonicalBytes: bytes).canonicalBytes
            case .genesis: try Genesis(canonicalBytes: bytes).canonicalBytes
            }
        }

        /// A valid sample and its independently built layout.
        var sample: (bytes: [UInt8], layout: Layout) {
            switch self {
            case .transaction: let t = Fixture.transaction(); return (t.canonicalBytes, .transaction(t))
            case .blockHeader: let h = Fixture.header(); return (h.canonicalBytes, .header(h))
            case .block: let b = Fixture.block(); return (b.canonicalBytes, .block(b))
            case .vote: let v = Fixture.vote(); return (v.canonicalBytes, .vote(v))
            case .certificate: let c = Fixture.certificate(indices: [0, 2, 3]); return (c.canonicalBytes, .certificate(c))
            case .genesis: let g = GenesisFixture.valid(); return (g.canonicalBytes, .genesis(g))
            }
        }
    }

    /// The test layouts describe the same bytes as the encoders (so their offsets can be trusted).
    @Test("layout matches the encoder", arguments: Kind.allCases)
    func layoutMatchesEncoder(_ kind: Kind) {
        let (bytes, layout) = kind.sample
        #expect(layout.bytes == bytes)
    }

    /// Fixed positions from docs/PROTOCOL.md, as a cross-check of the layouts.
    @Test func transactionFieldOffsets() {
        let layout = Layout.transaction(Fixture.transaction())
        #expect(layout.offset(of: "chain") == 2)         // after type and version
        #expect(layout.offset(of: "genesis_hash") == 10) // 1 + 7 bytes of "hansa-a"
        #expect(layout.offset(of: "sender") == 42)       // + 32 bytes of genesis hash
        #expect(layout.offset(of: "nonce") == 75)        // + 33 bytes of compressed key
        #expect(layout.offset(of: "kind") == 76)         // nonce 5 is one byte
        #expect(layout.offset(of: "payload") == 77)
        #expect(layout.offset(of: "gas_limit") == 82)    // 1 + 4 payload bytes
        #expect(layout.offset(of: "signature") == 85)    // 21000 takes 3 bytes
        #expect(layout.bytes.count == 149)
    }

    @Test("encode(decode(x)) == x", arguments: Kind.allCases)
    func reencodeIsIdentity(_ kind: Kind) throws {
        let bytes = kind.sample.bytes
        #expect(try kind.reencode(bytes) == bytes)
    }

    /// Truncating a valid encoding anywhere leaves input that ends too early.
    @Test("every proper prefix is refused as unexpectedEnd", arguments: Kind.allCases)
    func everyPrefixThrows(_ kind: Kind) {
        let bytes = kind.sample.bytes
        var accepted: [Int] = []
        var otherReasons: [String] = []
        for length in 0..<bytes.count {
            do {
                _ = try kind.reencode(Array(bytes.prefix(length)))
                accepted.append(length)
            } catch {
                guard case .unexpectedEnd(let needed) = error.reason, needed >= 1 else {
                    otherReasons.append("\(length): \(error)")
                    continue
                }
            }
        }
        #expect(accepted.isEmpty)
        #expect(otherReasons.isEmpty)
    }

    // MARK: decode(encode(v)) == v across edge values

    static let transactions: [NamedTransaction] = ([
        Fixture.transaction(),
        Fixture.transaction(nonce: 0, payload: [], gasLimit: 0),
        Fixture.transaction(nonce: .max, kind: .callContract, gasLimit: .max),
        Fixture.transaction(nonce: 127, kind: .deployContract, payload: [UInt8](repeating: 0x5a, count: Limits.maxPayloadBytes)),
        Fixture.transaction(nonce: 128, kind: .mint, chain: Fixture.chain(String(repeating: "z", count: ChainID.maxBytes))),
    ] + TransactionKind.allCases.map { Fixture.transaction(kind: $0) }).map(NamedTransaction.init)

    @Test("transaction survives a round trip", arguments: transactions)
    func transactionRoundTrip(_ named: NamedTransaction) throws {
        let tx = named.tx
        let decoded = try Transaction(canonicalBytes: tx.canonicalBytes)
        #expect(decoded == tx)
        #expect(decoded.hash == tx.hash)
        #expect(decoded.verifySignature())
    }

    @Test func headerAndBlockRoundTrip() throws {
        for n in [0, 1, 3] {
            let block = Fixture.block(transactionCount: n)
            let decoded = try Block(canonicalBytes: block.canonicalBytes)
            #expect(decoded == block)
            #expect(decoded.hash == block.header.hash)
            #expect(decoded.header.transactionsRoot == Block.transactionsRoot(decoded.transactions))
        }
        let extreme = BlockHeader(height: .max, previousHash: .zero, timestampMillis: .max, transactionsRoot: .zero,
                                  stateRoot: .zero, receiptsRoot: .zero,
                                  proposer: Address(bytes: [UInt8](repeating: 0xff, count: 20))!, view: .max)
        #expect(try BlockHeader(canonicalBytes: extreme.canonicalBytes) == extreme)
    }

    @Test("vote survives a round trip", arguments: [VotePhase.prepare, .commit], [UInt16(0), 3])
    func voteRoundTrip(_ phase: VotePhase, _ index: UInt16) throws {
        let vote = Fixture.vote(phase: phase, view: .max, height: 0, index: index)
        let decoded = try Vote(canonicalBytes: vote.canonicalBytes)
        #expect(decoded == vote)
        #expect(decoded.verify(in: Fixture.validatorSet(count: 4), chain: Fixture.chainA))
    }

    @Test func voteAcceptsTheLargestIndex() throws {
        let sig = Fixture.vote().signature
        let vote = Vote(phase: .prepare, view: 1, height: 1, blockHash: .zero,
                        validatorIndex: UInt16(Limits.maxValidators - 1), signature: sig)
        #expect(try Vote(canonicalBytes: vote.canonicalBytes) == vote)
    }

    @Test func certificateRoundTrip() throws {
        for indices in [[0, 1, 2], [0, 1, 2, 3], [3]] {
            let cert = Fixture.certificate(indices: indices)
            #expect(try CommitCertificate(canonicalBytes: cert.canonicalBytes) == cert)
        }
        let empty = CommitCertificate(view: 0, height: 0, blockHash: .zero, signers: [])
        #expect(try CommitCertificate(canonicalBytes: empty.canonicalBytes) == empty)
    }

    @Test func genesisRoundTrip() throws {
        let g = GenesisFixture.valid()
        let decoded = try Genesis(canonicalBytes: g.canonicalBytes)
        #expect(decoded == g)
        #expect(decoded.hash == g.hash)
        try decoded.validate()
        // Set order comes from the keys, not from the order given to init.
        let shuffled = Genesis(chain: g.chain, genesisTimeMillis: g.genesisTimeMillis, validators: g.validators,
                               participants: g.participants.reversed(), observers: g.observers.reversed(),
                               currencies: g.currencies.reversed(),
                               deposits: g.deposits.reversed(), consensus: g.consensus,
                               governanceThreshold: g.governanceThreshold)
        #expect(shuffled.canonicalBytes == g.canonicalBytes)
        // Version 3 carries the observers with their roles, banks and TLS pins.
        #expect(g.canonicalBytes[1] == 3)
        #expect(decoded.observers.map(\.name).sorted() == ["auditor-node", "citybank-replica"])
        #expect(decoded.observers.first { $0.role == .replica }?.bank == GenesisFixture.citybank.publicKey.address)
    }

    /// Mini-fuzz: change one byte of a valid encoding. Whatever still decodes must re-encode
    /// to exactly the changed bytes (a second accepted form would give one value two hashes).
    @Test("one-byte mutations are canonical or refused", arguments: [Kind.transaction, .blockHeader, .vote, .certificate])
    func singleByteMutations(_ kind: Kind) {
        let bytes = kind.sample.bytes
        var nonCanonical: [String] = []
        for i in bytes.indices {
            for value in Set([0x00, 0x01, 0x02, 0x7f, 0x80, 0x81, 0xff, bytes[i] ^ 0x01, bytes[i] ^ 0x80]) where value != bytes[i] {
                var mutated = bytes
                mutated[i] = value
                guard let again = try? kind.reencode(mutated) else { continue }
                if again != mutated { nonCanonical.append("byte \(i) = \(value)") }
            }
        }
        #expect(nonCanonical.isEmpty)
    }
}

/// A transaction argument that prints as a short label in test output.
struct NamedTransaction: Sendable, CustomTestStringConvertible {
    let tx: Transaction
    var testDescription: String { "\(tx.body.kind.name) nonce \(tx.body.nonce) payload \(tx.body.payload.count)B" }
}
