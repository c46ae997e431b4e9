import ChainTypes

/// The rules a chain's genesis fixes for transactions.
public struct ChainRules: Sendable {
    public let genesis: Genesis
    public let currencies: [CurrencyCode: Currency]
    /// A transaction's whole encoding, payload included (room for the largest contract code).
    public var maxTransactionBytes = 100 * 1024
    /// How far ahead of the account's next nonce the mempool holds transactions.
    public var maxNonceGap: UInt64 = 64

    /// The chain id and genesis hash every signature here must be bound to.
    public let binding: ChainBinding

    public init(genesis: Genesis) {
        self.genesis = genesis
        currencies = Dictionary(uniqueKeysWithValues: genesis.currencies.map { ($0.code, $0) })
        binding = genesis.binding
    }

    public var chain: ChainID { genesis.chain }
}

/// Transaction hashes whose signatures were verified, so that a transaction is verified once
/// — when the mempool admits it — and not again when its block is proposed or validated.
/// The hash covers the signature, so a hit proves that exact signed transaction verified.
///
/// Invariant: at most `capacity` entries; when full, the older half is forgotten.
public final class SignatureCache: Sendable {
    public let capacity: Int
    private let state = Locked<(current: Set<Hash>, previous: Set<Hash>)>(([], []))

    public init(capacity: Int = 200_000) { self.capacity = capacity }

    public func contains(_ h: Hash) -> Bool { state.withLock { $0.current.contains(h) || $0.previous.contains(h) } }

    public func insert(_ h: Hash) {
        state.withLock {
            if $0.current.count >= capacity / 2 {
                $0.previous = $0.current
                $0.current.removeAll(keepingCapacity: true)
            }
            $0.current.insert(h)
        }
    }

    /// Verifies `tx`'s signature unless it already did; counts real verifications.
    public func verify(_ tx: Transaction) -> Bool { verify(tx, hash: tx.hash) }

    /// The same, given the transaction's hash.
    public func verify(_ tx: Transaction, hash h: Hash) -> Bool {
        if contains(h) { return true }
        guard tx.verifySignature() else { return false }
        insert(h)
        verifications.withLock { $0 += 1 }
        return true
    }

    public let verifications = Locked<Int>(0)
}
