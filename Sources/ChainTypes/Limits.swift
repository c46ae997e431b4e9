/// Protocol-wide upper bounds that decoders enforce (TigerBeetle's "put a limit on
/// everything"). Genesis may set tighter limits for a chain; never looser ones.
public enum Limits {
    /// A transaction's payload: large enough for contract bytecode.
    public static let maxPayloadBytes = 128 * 1024
    /// Transactions in one block (the chain's genesis usually sets fewer).
    public static let maxBlockTransactions = 20_000
    /// Validators in one set; PBFT's quadratic messages make more than this impractical.
    public static let maxValidators = 256
    /// A participant's or validator's name (a label used by templates and the CLI).
    public static let maxNameBytes = 64
    /// A validator's peer-to-peer address, `host:port`.
    public static let maxP2PAddressBytes = 255
    /// Participants registered in genesis.
    public static let maxGenesisParticipants = 100_000
    /// Observer nodes (auditors, regulators, banks' read replicas) in genesis: each holds a
    /// connection to every validator, so the set stays small.
    public static let maxObservers = 64
    /// Currencies a chain knows.
    public static let maxCurrencies = 256
    /// Initial deposits in genesis.
    public static let maxGenesisDeposits = 1_000_000
}
