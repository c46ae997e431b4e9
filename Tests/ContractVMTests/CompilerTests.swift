import ChainTypes
import ContractVM
import Foundation
import Ledger
import HansaTestSupport
import Testing

/// A small program, the calls made on one host in order, and the last call's decoded output.
struct LanguageCase: Sendable, CustomTestStringConvertible {
    var name: String
    var source: String
    var calls: [(function: String, args: [ABIValue])]
    var result: [ABIValue]
    var testDescription: String { name }

    init(_ name: String, _ source: String, _ calls: [(String, [ABIValue])], _ result: [ABIValue]) {
        self.name = name; self.source = source; self.calls = calls.map { (function: $0.0, args: $0.1) }; self.result = result
    }

    /// One call of `f()`.
    init(_ name: String, _ source: String, _ result: [ABIValue]) { self.init(name, source, [("f", [])], result) }
}

/// A source that does not compile, where, and why.
struct ErrorCase: Sendable, CustomTestStringConvertible {
    var name: String
    var source: String
    var position: String
    var message: String
    var testDescription: String { name }

    init(_ name: String, _ source: String, _ position: String, _ message: String) {
        self.name = name; self.source = source; self.position = position; self.message = message
    }
}

@Suite("Compiler and language")
struct CompilerTests {
    static let who = addr(0xab)

    static let cases: [LanguageCase] = [
        // Arithmetic and precedence.
        LanguageCase("precedence of * / % over + -", "pub fn f() -> int { return 2 + 3 * 4 - 10 / 3 % 2; }", [.int(13)]),
        LanguageCase("parentheses", "pub fn f() -> int { return (2 + 3) * (4 - 1); }", [.int(15)]),
        LanguageCase("left associativity", "pub fn f() -> int { return 100 - 10 - 1 + 100 / 10 / 5; }", [.int(91)]),
        LanguageCase("unary minus binds tighter than *", "pub fn f() -> int { return -3 * -(2 - 5); }", [.int(-9)]),
        LanguageCase("division truncates toward zero", "pub fn f() -> int { return (-7 / 2) * 10 + -7 % 2; }", [.int(-31)]),
        LanguageCase("comparisons below arithmetic, equality below comparisons",
                     "pub fn f() -> bool { return 1 + 1 < 3 == 2 * 2 >= 4; }", [.bool(true)]),
        LanguageCase("! and && and ||", "pub fn f() -> bool { return !(1 > 2) && (false || true) && !false; }", [.bool(true)]),
        LanguageCase("&& binds tighter than ||", "pub fn f() -> bool { return true || false && false; }", [.bool(true)]),
        LanguageCase("int extremes", "pub fn f() -> int { return -9223372036854775807 - 1 + 1_000; }", [.int(.min + 1_000)]),
        // Short circuit: the right side's side effect must not happen.
        LanguageCase("&& and || short-circuit", """
            storage hits: int;
            fn touch(v: bool) -> bool { hits = hits + 1; return v; }
            pub fn f() -> int {
                let a = false && touch(true);
                let b = true || touch(false);
                let c = true && touch(true);
                let d = false || touch(false);
                require(!a && b && c && !d, "wrong values");
                return hits;
            }
            """, [.int(2)]),
        // Control flow.
        LanguageCase("if / else if / else", """
            fn classify(x: int) -> int {
                if x < 0 { return -1; } else if x == 0 { return 0; } else if x < 10 { return 1; } else { return 2; }
            }
            pub fn f() -> int { return classify(-5) * 1000 + classify(0) * 100 + classify(5) * 10 + classify(50); }
            """, [.int(-988)]),
        LanguageCase("if without else", "pub fn f(x: int) -> int { let r = 1; if x > 3 { r = 2; } return r; }", [("f", [.int(5)])], [.int(2)]),
        LanguageCase("while", "pub fn f() -> int { let i = 1; let s = 0; while i <= 100 { s = s + i; i = i + 1; } return s; }", [.int(5050)]),
        LanguageCase("nested while and early return", """
            pub fn f() -> int {
                let i = 0; let n = 0;
                while i < 10 {
                    let j = 0;
                    while j < i { n = n + 1; j = j + 1; }
                    if n > 30 { return n * 100 + i; }
                    i = i + 1;
                }
                return -1;
            }
            """, [.int(3608)]),
        // Locals and scopes.
        LanguageCase("block scopes reuse names", """
            pub fn f() -> int {
                let x = 1;
                if true { let y = 2; x = x + y; }
                if true { let y = 10; x = x + y; }
                while x < 20 { let y: int = 3; x = x + y; }
                return x;
            }
            """, [.int(22)]),
        LanguageCase("parameters are locals", "pub fn f(a: int, b: bytes) -> int { a = a + len(b); b = b + b; return a + len(b); }",
                     [("f", [.int(1), .string("xy")])], [.int(7)]),
        // Storage: scalars of each type, set by one call and read by the next.
        LanguageCase("storage int", "storage v: int; pub fn set(x: int) { v = x; v = v * 2; } pub fn get() -> int { return v; }",
                     [("set", [.int(-21)]), ("get", [])], [.int(-42)]),
        LanguageCase("storage bool", "storage v: bool; pub fn set(x: bool) { v = x; } pub fn get() -> bool { return v; }",
                     [("set", [.bool(true)]), ("get", [])], [.bool(true)]),
        LanguageCase("storage bytes", "storage v: bytes; pub fn set(x: bytes) { v = x; } pub fn get() -> bytes { return v + \"!\"; }",
                     [("set", [.string("abc")]), ("get", [])], [.string("abc!")]),
        LanguageCase("storage address", "storage v: address; pub fn set(x: address) { v = x; } pub fn get() -> address { return v; }",
                     [("set", [.address(addr(0xab))]), ("get", [])], [.address(addr(0xab))]),
        LanguageCase("unset storage reads as zero values", """
            storage i: int; storage b: bool; storage s: bytes; storage a: address;
            pub fn f() -> bool { return i == 0 && b == false && len(s) == 0 && len(a) == 0; }
            """, [.bool(true)]),
        // Maps of each type.
        LanguageCase("map int => int", "map m: int => int; pub fn set(k: int, v: int) { m[k] = v; } pub fn get(k: int) -> int { return m[k] + m[k + 1]; }",
                     [("set", [.int(1), .int(10)]), ("set", [.int(2), .int(5)]), ("get", [.int(1)])], [.int(15)]),
        LanguageCase("map bool => bool", "map m: bool => bool; pub fn set() { m[true] = true; } pub fn get() -> bool { return m[true] && !m[false]; }",
                     [("set", []), ("get", [])], [.bool(true)]),
        LanguageCase("map bytes => bytes and delete", """
            map m: bytes => bytes;
            pub fn set(k: bytes, v: bytes) { m[k] = v; }
            pub fn del(k: bytes) { delete m[k]; }
            pub fn get(k: bytes) -> bytes { return m[k]; }
            """, [("set", [.string("a"), .string("x")]), ("set", [.string("b"), .string("y")]), ("del", [.string("a")]), ("get", [.string("a")])],
                     [.string("")]),
        LanguageCase("map address => address", """
            map m: address => address;
            pub fn set(k: address) { m[k] = caller(); }
            pub fn get(k: address) -> address { return m[k]; }
            """, [("set", [.address(addr(0xab))]), ("get", [.address(addr(0xab))])], [.address(addr(0x11))]),
        // Constants fold at compile time.
        LanguageCase("constants", """
            const A = 6 * 7;
            const B = A - 2;
            const NEG = -5;
            const S = "ab" + "cd";
            const T = true;
            pub fn f() -> int { if T { return B * 10 + NEG + len(S); } return 0; }
            """, [.int(399)]),
        LanguageCase("string concatenation and escapes", #"pub fn f(n: bytes) -> bytes { return "hello, " + n + "\n\"\\"; }"#,
                     [("f", [.string("world")])], [.bytes(Array("hello, world\n\"\\".utf8))]),
        LanguageCase("bytes equality", #"pub fn f() -> bool { return "abc" == "ab" + "c" && "abc" != "abd"; }"#, [.bool(true)]),
        // Functions.
        LanguageCase("internal calls and recursion", """
            fn fib(n: int) -> int { if n < 2 { return n; } return fib(n - 1) + fib(n - 2); }
            fn fact(n: int) -> int { if n == 0 { return 1; } return n * fact(n - 1); }
            pub fn f() -> int { return fib(15) + fact(20); }
            """, [.int(610 + 2_432_902_008_176_640_000)]),
        LanguageCase("mutual recursion", """
            fn even(n: int) -> bool { if n == 0 { return true; } return odd(n - 1); }
            fn odd(n: int) -> bool { if n == 0 { return false; } return even(n - 1); }
            pub fn f(n: int) -> bool { return even(n) && !odd(n); }
            """, [("f", [.int(30)])], [.bool(true)]),
        LanguageCase("a void call as a statement", """
            storage n: int;
            fn bump(by: int) { n = n + by; }
            pub fn f() -> int { bump(2); bump(3); return n; }
            """, [.int(5)]),
        // Results are ABI-encoded by type; a void pub fn has no output.
        LanguageCase("bool result", "pub fn f() -> bool { return 1 == 2; }", [.bool(false)]),
        LanguageCase("bytes result", "pub fn f() -> bytes { return to_bytes(258); }", [.bytes([0, 0, 0, 0, 0, 0, 1, 2])]),
        LanguageCase("address result", "pub fn f() -> address { return self(); }", [.address(addr(0xc0))]),
        LanguageCase("void result", "pub fn f() { let x = 1; }", []),
        // Built-ins.
        LanguageCase("caller, roles, time, height", """
            pub fn f() -> int {
                require(caller() == caller(), "x");
                return caller_role() * 1000 + role_of(caller()) * 100 + height() + now() / 1_000_000_000_000;
            }
            """, [.int(3_000 + 300 + 42 + 1)]),
        LanguageCase("balance, sha256, slice, len", """
            pub fn f() -> int {
                let h = sha256("abc");
                require(slice(h, 0, 2) == slice(sha256("a" + "bc"), 0, 2), "hash");
                return balance(self(), "USD") + len(h) + len(slice(h, 30, 2));
            }
            """, [.int(1_000 + 32 + 2)]),
    ]

    @Test(arguments: cases)
    func runs(_ c: LanguageCase) throws {
        let compiled = try compile(c.source)
        let host = MockHost()
        var last = ContractOutcome(succeeded: false, gasUsed: 0)
        for call in c.calls {
            last = run(compiled, call.function, call.args, host: host)
            #expect(last.succeeded, "\(call.function): \(last.failure ?? "")")
        }
        #expect(outputValues(last) == c.result)
    }

    // MARK: What the host sees

    @Test func eventsCarryABIData() throws {
        let c = try compile("""
            event Paid(to: address, amount: int, ok: bool, memo: bytes);
            event Ping();
            pub fn f(n: int) { emit Paid(caller(), n * 2, n > 0, "memo"); emit Ping(); }
            """)
        let h = MockHost()
        #expect(run(c, "f", [.int(21)], host: h).succeeded)
        #expect(h.events == [
            MockHost.Emitted(topics: [Event.topic("Paid")], data: ABI.encode([.address(h.caller), .int(42), .bool(true), .string("memo")])),
            MockHost.Emitted(topics: [Event.topic("Ping")], data: []),
        ])
        #expect(try ABI.decodeValues(h.events[0].data) == [.address(h.caller), .int(42), .bool(true), .string("memo")])
    }

    @Test func scheduleStatementsGiveTheHostCallInput() throws {
        let c = try compile("""
            pub fn f() {
                schedule tick() at now() + 100;
                schedule pay_out(7, "lot", caller(), true) at now() + 200;
            }
            sched fn tick() { }
            sched fn pay_out(id: int, ref: bytes, to: address, full: bool) { }
            """)
        let h = MockHost()
        #expect(run(c, gas: 3 * GasSchedule.scheduledCallGas, host: h).succeeded, "each schedule prepays its call's budget")
        #expect(h.schedules == [
            MockHost.Scheduled(at: h.blockTimeMillis + 100, input: ABI.encodeCall("tick", [])),
            MockHost.Scheduled(at: h.blockTimeMillis + 200, input: ABI.encodeCall("pay_out", [.int(7), .string("lot"), .address(h.caller), .bool(true)])),
        ])
        // The recorded input starts the sched fn.
        let o = vm.run(code: c.bytecode, entry: .scheduled, input: h.schedules[1].input, gasLimit: 100_000, host: MockHost())
        #expect(o.succeeded)
    }

    @Test func storageKeysFollowTheABI() throws {
        let c = try compile("""
            storage count: int;
            storage owner: address;
            map names: int => bytes;
            pub fn f() { count = 3; owner = caller(); names[5] = "five"; }
            """)
        let h = MockHost()
        #expect(run(c, host: h).succeeded)
        #expect(h.storage == [
            Array("count".utf8): [0, 0, 0, 0, 0, 0, 0, 3],
            Array("owner".utf8): h.caller.bytes,
            Array("names/".utf8) + ABI.encode(.int(5)): Array("five".utf8),
        ])
        // The ABI JSON names the same keys.
        let json = try #require(try JSONSerialization.jsonObject(with: Data(c.abiJSON.utf8)) as? [String: Any])
        let storage = try #require(json["storage"] as? [[String: String]])
        #expect(storage.map { $0["key"] ?? "" } == ["count", "owner", "names/<abi int>"])
    }

    // MARK: Compile errors

    static let errors: [ErrorCase] = [
        ErrorCase("unknown name", "pub fn f() -> int {\n    return x;\n}", "2:12", "unknown name x"),
        ErrorCase("unknown function", "pub fn f() -> int {\n    return g(1);\n}", "2:12", "unknown function g"),
        ErrorCase("unknown variable assigned", "pub fn f() {\n    y = 1;\n}", "2:5", "unknown variable y; declare it with let"),
        // Types, in each position.
        ErrorCase("if condition not bool", "pub fn f() {\n    if 1 { }\n}", "2:8", "an if condition must be bool, not int"),
        ErrorCase("while condition not bool", "pub fn f() {\n    while \"x\" { }\n}", "2:11", "a while condition must be bool, not bytes"),
        ErrorCase("assigning bytes to int", "pub fn f() {\n    let x = 1;\n    x = \"a\";\n}", "3:9", "the value assigned to x must be int, not bytes"),
        ErrorCase("assigning to storage of another type", "storage s: address;\npub fn f() {\n    s = 5;\n}", "3:9",
                  "the value assigned to s must be address, not int"),
        ErrorCase("declared type differs", "pub fn f() {\n    let x: int = \"a\";\n}", "2:18", "x is declared int but its value is bytes"),
        ErrorCase("argument type", "fn g(a: int) -> int { return a; }\npub fn f() -> int {\n    return g(\"s\");\n}", "3:14",
                  "argument a of g must be int, not bytes"),
        ErrorCase("built-in argument type", "pub fn f() {\n    let h = sha256(5);\n}", "2:20", "argument 1 of sha256 must be bytes, not int"),
        ErrorCase("return value type", "pub fn f() -> bool {\n    return 1;\n}", "2:12", "the value f returns must be bool, not int"),
        ErrorCase("map key type", "map m: address => int;\npub fn f() -> int {\n    return m[1];\n}", "3:14", "the key of m must be address, not int"),
        ErrorCase("map value type", "map m: int => bool;\npub fn f() {\n    m[1] = 2;\n}", "3:12", "a value stored in m must be bool, not int"),
        ErrorCase("comparing different types", "pub fn f() -> bool {\n    return 1 == \"a\";\n}", "2:17",
                  "the right side of '==' (the left side is int) must be int, not bytes"),
        ErrorCase("'+' on bools", "pub fn f() -> bool {\n    return true + false;\n}", "2:17", "'+' adds integers or joins bytes, not bool"),
        ErrorCase("'!' on an int", "pub fn f() -> bool {\n    return !1;\n}", "2:12", "'!' needs a bool"),
        ErrorCase("'-' on bytes", "pub fn f() -> int {\n    return -\"a\";\n}", "2:13", "the operand of '-' must be int, not bytes"),
        ErrorCase("'<' on bytes", "pub fn f() -> bool {\n    return \"a\" < \"b\";\n}", "2:12", "the left side of '<' must be int, not bytes"),
        ErrorCase("len of an int", "pub fn f() -> int {\n    return len(5);\n}", "2:16", "len takes bytes or an address"),
        ErrorCase("require's message", "pub fn f() {\n    require(true, 5);\n}", "2:19", "require's message must be bytes, not int"),
        ErrorCase("schedule time", "pub fn f() {\n    schedule t() at \"soon\";\n}\nsched fn t() { }", "2:21",
                  "the time of a scheduled call must be int, not bytes"),
        ErrorCase("event field type", "event E(a: int, b: bool);\npub fn f() {\n    emit E(1, 2);\n}", "3:15", "field b of event E must be bool, not int"),
        ErrorCase("a void call as a value", "fn g() { }\npub fn f() {\n    let x = g();\n}", "3:13",
                  "x cannot hold the result of a function that returns nothing"),
        // Arity.
        ErrorCase("wrong argument count", "fn g(a: int) -> int { return a; }\npub fn f() -> int {\n    return g(1, 2);\n}", "3:12",
                  "g takes 1 argument, not 2"),
        ErrorCase("built-in argument count", "pub fn f() {\n    let t = now(1);\n}", "2:13", "now takes 0 arguments, not 1"),
        ErrorCase("require's arguments", "pub fn f() {\n    require(true);\n}", "2:5", "require takes a condition and a message"),
        // Returns.
        ErrorCase("missing return on some path", "pub fn f(x: int) -> int {\n    if x > 0 { return 1; }\n}", "1:1",
                  "f must return an int on every path; add a return at the end"),
        ErrorCase("missing return after a loop", "pub fn f() -> bool {\n    while true { return true; }\n}", "1:1",
                  "f must return a bool on every path; add a return at the end"),
        ErrorCase("return value from a void function", "pub fn f() {\n    return 1;\n}", "2:5",
                  "f returns nothing; remove the value or declare '-> type'"),
        ErrorCase("return without a value", "pub fn f() -> address {\n    return;\n}", "2:5", "f must return an address"),
        ErrorCase("a sched fn with a result", "sched fn f() -> int { return 1; }", "1:1", "a sched fn returns nothing: the scheduler discards results"),
        // Names.
        ErrorCase("redeclared local", "pub fn f() {\n    let x = 1;\n    let x = 2;\n}", "3:5", "x is already declared at 2:5"),
        ErrorCase("redeclared in an inner scope", "pub fn f(x: int) {\n    if true {\n        let x = 2;\n    }\n}", "3:9",
                  "x is already declared at 1:10"),
        ErrorCase("redeclared top-level name", "storage a: int;\nmap a: int => int;", "2:1", "a is already declared at 1:1"),
        ErrorCase("function named like storage", "storage f: int;\npub fn f() { }", "2:1", "f is already declared at 1:1"),
        ErrorCase("local named like storage", "storage n: int;\npub fn f(n: int) { }", "2:10",
                  "n already names a constant, storage variable, map or function; choose another name"),
        ErrorCase("built-in redeclared", "storage now: int;", "1:1", "now is a built-in function and cannot be redeclared"),
        ErrorCase("assignment to a constant", "const K = 1;\npub fn f() {\n    K = 2;\n}", "3:5", "K is a constant and cannot be assigned"),
        ErrorCase("reading a map without a key", "map m: int => int;\npub fn f() -> int {\n    return m;\n}", "3:12",
                  "m is a map; read an entry with m[key]"),
        ErrorCase("indexing a non-map", "storage s: int;\npub fn f() -> int {\n    return s[1];\n}", "3:12", "s is not a map"),
        // Kinds of function.
        ErrorCase("calling a pub fn from code", "pub fn g() { }\npub fn f() {\n    g();\n}", "3:5",
                  "g is a public function; only plain 'fn' functions can be called from code"),
        ErrorCase("calling a sched fn from code", "sched fn g() { }\npub fn f() {\n    g();\n}", "3:5",
                  "g is a scheduled function; only plain 'fn' functions can be called from code"),
        ErrorCase("scheduling a non-sched fn", "fn g() { }\npub fn f() {\n    schedule g() at 5;\n}", "3:5",
                  "g must be declared 'sched fn' to be scheduled"),
        ErrorCase("scheduling an unknown fn", "pub fn f() {\n    schedule h() at 5;\n}", "2:5", "unknown function h"),
        ErrorCase("scheduling with the wrong arguments", "sched fn t(a: int) { }\npub fn f() {\n    schedule t() at 5;\n}", "3:5",
                  "t takes 1 argument, not 0"),
        // Events.
        ErrorCase("unknown event", "pub fn f() {\n    emit Nope(1);\n}", "2:5", "unknown event Nope; declare it with 'event Nope(...);'"),
        ErrorCase("wrong event field count", "event E(a: int, b: bool);\npub fn f() {\n    emit E(1);\n}", "3:5", "event E has 2 fields, not 1"),
        // Constants.
        ErrorCase("constant from a call", "const A = now();", "1:11",
                  "a constant's value must be a literal or arithmetic on literals and earlier constants"),
        ErrorCase("constant from a later constant", "const A = B + 1;\nconst B = 2;", "1:11",
                  "a constant's value may use only literals and earlier constants; B is not one"),
        ErrorCase("constant overflow", "const A = 9223372036854775807 + 1;", "1:31", "this constant overflows 64 bits"),
        ErrorCase("constant division by zero", "const A = 1 / (2 - 2);", "1:13", "division by zero in a constant"),
        // Lexing and parsing.
        ErrorCase("unclosed string", "pub fn f() {\n    let s = \"abc;\n}", "2:13", "this string is not closed on its line"),
        ErrorCase("unknown escape", "pub fn f() {\n    let s = \"a\\tb\";\n}", "2:16", "unknown escape \\t; use \\n, \\\" or \\\\"),
        ErrorCase("unclosed block", "pub fn f() {\n    let x = 1;\n", "3:1", "this block is not closed; expected '}'"),
        ErrorCase("unexpected character", "pub fn f() {\n    let x = 1 # 2;\n}", "2:15", "unexpected character '#'"),
        ErrorCase("unexpected non-ASCII character", "pub fn f() {\n    let é = 1;\n}", "2:9", "unexpected character 'é'"),
        ErrorCase("integer literal overflow", "pub fn f() -> int {\n    return 9223372036854775808;\n}", "2:12", "this integer does not fit in 64 bits"),
        ErrorCase("a number running into a name", "pub fn f() -> int {\n    return 12ab;\n}", "2:14",
                  "a number cannot run into a name; put a space or operator between them"),
        ErrorCase("keyword as a variable name", "pub fn f() {\n    let if = 1;\n}", "2:9", "expected a variable name, found the keyword 'if'"),
        ErrorCase("keyword as a function name", "fn while() { }", "1:4", "expected a function's name, found the keyword 'while'"),
        ErrorCase("keyword as a parameter name", "fn g(map: int) { }", "1:6", "expected a parameter name, found the keyword 'map'"),
        ErrorCase("missing semicolon", "pub fn f() {\n    let x = 1\n}", "3:1", "expected ';' after the statement, found '}'"),
        ErrorCase("a statement at the top level", "let x = 1;", "1:1",
                  "expected a declaration (const, storage, map, event, init, fn, pub fn or sched fn), found the keyword 'let'"),
        ErrorCase("unknown type", "storage s: string;", "1:12", "expected a type (int, bool, bytes or address), found the name 'string'"),
        ErrorCase("assigning to an expression", "pub fn f() {\n    1 = 2;\n}", "2:5", "only a variable or a map entry can be assigned to"),
    ]

    @Test(arguments: errors)
    func refuses(_ e: ErrorCase) {
        let error = compileError(e.source)
        #expect(error?.description == "t.hc:\(e.position): error: \(e.message)")
    }

    @Test func theLargestLiteralCompiles() throws {
        let c = try compile("pub fn f() -> int {\n    return 9223372036854775807;\n}")
        #expect(outputValues(run(c)) == [.int(.max)])
    }

    // MARK: hansa contract compile

    static func tempDir() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("hansa-vm-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    @Test func hansaContractCompileWritesBytecodeAndABI() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = repositoryRoot() + "/contracts/letter_of_credit.hc"
        let r = try HansaExecutable.run(["contract", "compile", source, "-o", dir.path])
        #expect(r.status == 0, "\(r.err)")
        #expect(r.out.contains("compiled \(source)"))

        let code = try [UInt8](Data(contentsOf: dir.appendingPathComponent("letter_of_credit.hvm")))
        #expect(vm.verify(code: code) == nil)
        #expect(code == TradeChain.letterOfCredit.bytecode)

        let data = try Data(contentsOf: dir.appendingPathComponent("letter_of_credit.abi.json"))
        let json = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
        let functions = try #require(json["functions"] as? [[String: Any]])
        let present = try #require(functions.first { $0["name"] as? String == "present" })
        #expect(present["kind"] as? String == "public")
        #expect(present["result"] as? String == "int")
        let params = try #require(present["params"] as? [[String: String]])
        #expect(params.count == 16)
        #expect(params.first == ["name": "invoice_hash", "type": "bytes"])
        #expect(!functions.contains { $0["kind"] as? String == "internal" })
        #expect(json["events"] is [[String: Any]] && json["storage"] is [[String: Any]])
        // The node's RPC finds the ABI of a contract by its account's code hash (docs/RPC.md).
        #expect(json["code_hash"] as? String == SHA256.hash(code).hex)
        #expect(json["name"] as? String == "letter_of_credit")
    }

    @Test func hansaContractCompileReportsAnErrorWithItsPlace() throws {
        let dir = Self.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let source = dir.appendingPathComponent("broken.hc").path
        try "pub fn f() -> int {\n    return x;\n}\n".write(toFile: source, atomically: true, encoding: .utf8)
        let r = try HansaExecutable.run(["contract", "compile", source, "-o", dir.path])
        #expect(r.status == 1)
        #expect(r.err.contains("\(source):2:12: error: unknown name x"), "\(r.err)")
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("broken.hvm").path))
    }
}
