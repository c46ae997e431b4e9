/// The last committed block as consensus and the ledger need it: where the next block attaches.
public struct ChainTip: Hashable, Sendable {
    public var height: UInt64
    public var hash: Hash
    public var timestampMillis: UInt64
    /// The certificate of the block at `height`; nil only at height 0 (genesis).
    public var certificate: CommitCertificate?

    public init(height: UInt64, hash: Hash, timestampMillis: UInt64, certificate: CommitCertificate?) {
        self.height = height; self.hash = hash; self.timestampMillis = timestampMillis; self.certificate = certificate
    }

    public static func genesis(_ g: Genesis) -> ChainTip {
        ChainTip(height: 0, hash: g.hash, timestampMillis: g.genesisTimeMillis, certificate: nil)
    }
}

