import ChainTypes
import HansaConfig
import HansaTestSupport
import Testing

/// A seeded mutation sweep over every decoder (a cheap, deterministic cousin of fuzzing):
/// valid encodings with bytes flipped, inserted, deleted or truncated must either be refused
/// with a `DecodeError` or, when accepted, re-encode to exactly the same bytes (one byte form
/// per value). A crash or a second accepted form fails the test; the seed is in the message.
@Suite("Decoder mutation sweep")
struct DecoderMutationTests {

    static func mutate(_ input: [UInt8], _ rng: inout SplitMix64) -> [UInt8] {
        var bytes = input
        for _ in 0..<Int.random(in: 1...3, using: &rng) {
            let op = Int.random(in: 0..<4, using: &rng)
            let i = bytes.isEmpty ? 0 : Int.random(in: 0..<bytes.count, using: &rng)
            switch op {
            case 0 where !bytes.isEmpty: bytes[i] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &rng)
            case 1: bytes.insert(UInt8.random(in: .min ... .max, using: &rng), at: i)
            case 2 where !bytes.isEmpty: bytes.remove(at: i)
            default: bytes = Array(bytes.prefix(i))
            }
        }
        return bytes
    }

    static func sweep<T: CanonicalCodable>(_ type: T.Type, _ valid: [UInt8], seed: UInt64, rounds: Int) {
        var rng = SplitMix64(seed: seed)
        var accepted = 0
        for round in 0..<rounds {
            let bytes = mutate(valid, &rng)
            do {
                let value = try T(canonicalBytes: bytes)
                accepted += 1
                #expect(value.canonicalBytes == bytes, "seed \(seed) round \(round): \(T.self) accepted a non-canonical form")
            } catch {
                #expect(!error.description.isEmpty)
            }
        }
        // Most mutations must be refused; a decoder that accepts everything is broken.
        #expect(accepted < rounds / 2, "\(T.self) accepted \(accepted) of \(rounds) mutations")
    }

    static let genesisBytes: [UInt8] = {
        let keys = (0..<5).map { ProtocolVectors.key($0) }
        let validators = (0..<4).map {
            Validator(name: "bank-\($0)", publicKey: keys[$0].publicKey, p2pAddress: "127.0.0.1:\(7000 + $0)", tlsSPKISHA256: nil)
        }
        var participants = validators.map { Participant(name: $0.name, publicKey: $0.publicKey, role: .validatorBank, bank: nil) }
        participants.append(Participant(name: "exporter", publicKey: keys[4].publicKey, role: .exporter, bank: validators[0].address))
        let usd = try! CurrencyCode("USD")
        let g = Genesis(chain: ProtocolVectors.chain.id, genesisTimeMillis: 1, validators: try! ValidatorSet(validators),
                        participants: participants,
                        currencies: [Currency(code: usd, decimals: 2, issuers: [validators[0].address])],
                        deposits: [Deposit(account: keys[4].publicKey.address, currency: usd, amount: 100)],
                        consensus: .standard, governanceThreshold: 3)
        return g.canonicalBytes
    }()

    @Test(arguments: [1, 2, 3] as [UInt64])
    func transactions(seed: UInt64) {
        Self.sweep(Transaction.self, ProtocolVectors.sampleTransaction().canonicalBytes, seed: seed, rounds: 1500)
    }

    @Test(arguments: [4, 5] as [UInt64])
    func blocks(seed: UInt64) {
        Self.sweep(Block.self, ProtocolVectors.sampleBlock().canonicalBytes, seed: seed, rounds: 1000)
        Self.sweep(BlockHeader.self, ProtocolVectors.sampleBlock().header.canonicalBytes, seed: seed, rounds: 1000)
    }

    @Test(arguments: [6, 7] as [UInt64])
    func votesAndCertificates(seed: UInt64) {
        let block = ProtocolVectors.sampleBlock()
        let votes = (0..<3).map {
            Vote.make(phase: .commit, view: 2, height: 1, blockHash: block.hash, validatorIndex: UInt16($0),
                      chain: ProtocolVectors.chain, key: ProtocolVectors.key($0))
        }
        Self.sweep(Vote.self, votes[0].canonicalBytes, seed: seed, rounds: 1000)
        Self.sweep(CommitCertificate.self, CommitCertificate(votes: votes).canonicalBytes, seed: seed, rounds: 1000)
    }

    @Test(arguments: [8, 9] as [UInt64])
    func genesis(seed: UInt64) {
        Self.sweep(Genesis.self, Self.genesisBytes, seed: seed, rounds: 1000)
    }
}
