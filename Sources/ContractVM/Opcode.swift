/// The instruction set. Each instruction is one opcode byte followed by its immediate, if any
/// (big-endian). docs/CONTRACTS.md has the table with stack effects and gas.
public enum Opcode: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    // Stack and locals.
    case pushInt = 0x01        // imm: 8-byte signed integer
    case pushConst = 0x02      // imm: u16 constant index → bytes
    case pop = 0x03
    case dup = 0x04
    case load = 0x05           // imm: u8 local slot
    case store = 0x06          // imm: u8 local slot
    // Integer arithmetic: overflow and division by zero trap.
    case add = 0x10
    case sub = 0x11
    case mul = 0x12
    case div = 0x13
    case mod = 0x14
    case neg = 0x15
    // Comparison → 0 or 1. `eq`/`ne` compare two integers or two byte strings.
    case eq = 0x18
    case ne = 0x19
    case lt = 0x1a
    case le = 0x1b
    case gt = 0x1c
    case ge = 0x1d
    case not = 0x1e            // 0 → 1, anything else → 0
    // Byte strings.
    case concat = 0x20
    case len = 0x21
    case slice = 0x22          // bytes, start, count → bytes
    case intToBytes = 0x23     // → 8 bytes big-endian
    case bytesToInt = 0x24     // empty → 0, 8 bytes → integer, else trap
    case sha256 = 0x25
    case abiEncode = 0x26      // imm: u8 ValueType; value → its ABI encoding
    // Control.
    case jump = 0x30           // imm: u32 code offset
    case jumpIfFalse = 0x31    // imm: u32 code offset; pops an integer, jumps when it is 0
    case call = 0x32           // imm: u16 function index
    case ret = 0x33            // returns the single value left on the frame's stack
    case trap = 0x34           // pops a message; the run fails and every change is undone
    case host = 0x40           // imm: u8 HostFunction

    /// The instruction's name in docs/CONTRACTS.md (used in verifier and trap messages).
    public var name: String {
        switch self {
        case .pushInt: "push_int"
        case .pushConst: "push_const"
        case .pop: "pop"
        case .dup: "dup"
        case .load: "load"
        case .store: "store"
        case .add: "add"
        case .sub: "sub"
        case .mul: "mul"
        case .div: "div"
        case .mod: "mod"
        case .neg: "neg"
        case .eq: "eq"
        case .ne: "ne"
        case .lt: "lt"
        case .le: "le"
        case .gt: "gt"
        case .ge: "ge"
        case .not: "not"
        case .concat: "concat"
        case .len: "len"
        case .slice: "slice"
        case .intToBytes: "int_to_bytes"
        case .bytesToInt: "bytes_to_int"
        case .sha256: "sha256"
        case .abiEncode: "abi_encode"
        case .jump: "jump"
        case .jumpIfFalse: "jump_if_false"
        case .call: "call"
        case .ret: "ret"
        case .trap: "trap"
        case .host: "host"
        }
    }

    /// Bytes of immediate after the opcode.
    public var immediateBytes: Int {
        switch self {
        case .pushInt: 8
        case .pushConst, .call: 2
        case .load, .store, .abiEncode, .host: 1
        case .jump, .jumpIfFalse: 4
        default: 0
        }
    }

    public var description: String { name }
}

/// What the contract may ask of the ledger (`ContractHost`). Arguments are popped in order
/// (the last argument is on top).
public enum HostFunction: UInt8, Sendable, CaseIterable {
    case caller = 0            // → address
    case callerRole = 1        // → int (Role raw value, 0 for none)
    case roleOf = 2            // address → int
    case now = 3               // → int, block time in milliseconds since 1970
    case height = 4            // → int
    case this = 5              // → address of the running contract
    case balance = 6           // address, currency → int
    case pay = 7               // address, currency, amount → (traps when refused)
    case storageLoad = 8       // key → bytes (empty when absent)
    case storageStore = 9      // key, value →
    case storageDelete = 10    // key →
    case emit = 11             // name, data →
    case schedule = 12         // atMillis, input → (traps when refused)
    case value = 13            // → int, minor units the calling transaction sent (0 when none)
    case valueCurrency = 14    // → bytes, the currency it sent (empty when none)

    /// (arguments popped, results pushed).
    public var stackEffect: (pops: Int, pushes: Int) {
        switch self {
        case .caller, .callerRole, .now, .height, .this, .value, .valueCurrency: (0, 1)
        case .roleOf, .storageLoad: (1, 1)
        case .balance: (2, 1)
        case .pay: (3, 0)
        case .storageStore, .emit, .schedule: (2, 0)
        case .storageDelete: (1, 0)
        }
    }

    public var name: String {
        switch self {
        case .caller: "caller"
        case .callerRole: "caller_role"
        case .roleOf: "role_of"
        case .now: "now"
        case .height: "height"
        case .this: "self"
        case .balance: "balance"
        case .pay: "pay"
        case .storageLoad: "storage_load"
        case .storageStore: "storage_store"
        case .storageDelete: "storage_delete"
        case .emit: "emit"
        case .schedule: "schedule"
        case .value: "value"
        case .valueCurrency: "value_currency"
        }
    }
}
