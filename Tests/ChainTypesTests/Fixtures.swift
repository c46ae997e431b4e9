import ChainTypes
import HansaCrypto

/// Reproducible values shared by the ChainTypes tests. Secrets are small numbers (1…255 for
/// `key`, 1000 + i for validator i), so every run signs the same bytes (RFC 6979 makes
/// signing deterministic).
enum Fixture {
    static func key(_ i: UInt8) -> PrivateKey {
        try! PrivateKey(secret: [UInt8](repeating: 0, count: 31) + [i])
    }

    /// A chain binding: the id `name` and a genesis hash of SHA-256("genesis of NAME", launch).
    static func chain(_ name: String, launch: Int = 1) -> ChainBinding {
        ChainBinding(id: try! ChainID(name), genesisHash: SHA256.hash(utf8: "genesis of \(name), launch \(launch)"))
    }
    static let chainA = chain("hansa-a")
    static let chainB = chain("hansa-b")
    /// Chain A relaunched from a new genesis under the same id.
    static let chainARelaunched = chain("hansa-a", launch: 2)

    static func hash(_ label: String) -> Hash { SHA256.hash(utf8: label) }

    static func body(nonce: UInt64 = 5, kind: TransactionKind = .transfer, payload: [UInt8] = [0xde, 0xad, 0xbe, 0xef],
                     gasLimit: UInt64 = 21_000, chain: ChainBinding = chainA, sender: UInt8 = 1) -> TransactionBody {
        TransactionBody(chain: chain, sender: key(sender).publicKey, nonce: nonce, kind: kind,
                        payload: payload, gasLimit: gasLimit)
    }

    static func transaction(nonce: UInt64 = 5, kind: TransactionKind = .transfer, payload: [UInt8] = [0xde, 0xad, 0xbe, 0xef],
                            gasLimit: UInt64 = 21_000, chain: ChainBinding = chainA, sender: UInt8 = 1) -> Transaction {
        body(nonce: nonce, kind: kind, payload: payload, gasLimit: gasLimit, chain: chain, sender: sender)
            .signed(with: key(sender))
    }

    static func header(height: UInt64 = 7, transactions: [Transaction] = [], view: UInt64 = 2) -> BlockHeader {
        BlockHeader(height: height, previousHash: hash("block 6"), timestampMillis: 1_764_000_000_000,
                    transactionsRoot: Block.transactionsRoot(transactions), stateRoot: hash("state 7"),
                    receiptsRoot: hash("receipts 7"), proposer: validatorKey(0).publicKey.address, view: view)
    }

    static func block(transactionCount: Int = 2) -> Block {
        let txs = (0..<transactionCount).map { transaction(nonce: UInt64($0), sender: UInt8(1 + $0 % 3)) }
        return Block(header: header(transactions: txs), transactions: txs)
    }

    /// The key of validator i. Its position in a `ValidatorSet` is by address, not by i:
    /// use `signer(at:in:)` to find the key for a position.
    static func validatorKey(_ i: Int) -> PrivateKey {
        let secret = UInt16(1_000 + i)
        return try! PrivateKey(secret: [UInt8](repeating: 0, count: 30) + [UInt8(secret >> 8), UInt8(secret & 0xff)])
    }

    static func validator(_ i: Int, p2p: String? = nil, tls: Hash? = nil) -> Validator {
        Validator(name: "bank-\(i)", publicKey: validatorKey(i).publicKey,
                  p2pAddress: p2p ?? "10.0.0.\(i + 1):7000", tlsSPKISHA256: tls)
    }

    static func validatorSet(count: Int) -> ValidatorSet {
        try! ValidatorSet((0..<count).map { validator($0, tls: $0 % 2 == 0 ? hash("tls \($0)") : nil) })
    }

    /// The private key of the validator at `index` in `set`.
    static func signer(at index: Int, in set: ValidatorSet) -> PrivateKey {
        let wanted = set.validators[index].publicKey
        for i in 0...Limits.maxValidators where validatorKey(i).publicKey == wanted { return validatorKey(i) }
        preconditionFailure("no fixture key for validator \(index)")
    }

    static func vote(phase: VotePhase = .commit, view: UInt64 = 2, height: UInt64 = 7, block: Hash = hash("block 7"),
                     index: UInt16 = 1, in set: ValidatorSet = validatorSet(count: 4), chain: ChainBinding = chainA) -> Vote {
        Vote.make(phase: phase, view: view, height: height, blockHash: block, validatorIndex: index,
                  chain: chain, key: signer(at: Int(index), in: set))
    }

    /// A certificate signed by the validators at `indices` of `set`.
    static func certificate(indices: [Int], in set: ValidatorSet = validatorSet(count: 4), view: UInt64 = 2,
                            height: UInt64 = 7, block: Hash = hash("block 7"), chain: ChainBinding = chainA) -> CommitCertificate {
        CommitCertificate(votes: indices.map {
            vote(phase: .commit, view: view, height: height, block: block, index: UInt16($0), in: set, chain: chain)
        })
    }
}
