import NIOCore

/// Frame limits. A frame is a u32 big-endian length, then that many body bytes; the body's first
/// byte is its kind (`FrameKind`).
public enum FrameLimits {
    /// Room a frame needs beyond the largest block it may carry: the kind byte, the message's
    /// own header and its commit certificate (a few signatures per validator).
    public static let overheadBytes = 64 * 1024
    /// The smallest maximum a transport may be configured with: a hello must always fit.
    public static let minimumMaxFrameBytes = 1024

    /// The frame maximum for a chain whose genesis allows blocks of up to `maxBlockBytes`.
    public static func maxFrameBytes(maxBlockBytes: UInt64) -> Int {
        Int(clamping: maxBlockBytes) + overheadBytes
    }
}

/// What a frame body holds, named by its first byte.
public enum FrameKind: UInt8, Sendable, CaseIterable {
    /// The application handshake's hello (`PeerHello`).
    case hello = 0x01
    /// The application handshake's transcript signature.
    case auth = 0x02
    /// An application message (consensus, gossip, sync); opaque to the transport.
    case message = 0x10
}

/// Splits the inbound byte stream into frame bodies (one `ByteBuffer` each, the length removed).
///
/// A length above `maxFrameBytes` or of zero throws before any body byte is buffered, so a peer
/// can never make this node hold more than `maxFrameBytes` of one frame.
/// Invariant: every emitted body has 1...maxFrameBytes bytes.
public struct FrameDecoder: ByteToMessageDecoder, Sendable {
    public typealias InboundOut = ByteBuffer
    public let maxFrameBytes: Int

    public init(maxFrameBytes: Int) {
        precondition(maxFrameBytes >= FrameLimits.minimumMaxFrameBytes && maxFrameBytes <= Int(UInt32.max),
                     "maxFrameBytes out of range")
        self.maxFrameBytes = maxFrameBytes
    }

    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let length = buffer.getInteger(at: buffer.readerIndex, as: UInt32.self) else { return .needMoreData }
        guard length > 0 else { throw PeerTransportError.emptyFrame }
        guard length <= maxFrameBytes else {
            throw PeerTransportError.frameTooLarge(bytes: Int(length), maxFrameBytes: maxFrameBytes)
        }
        guard buffer.readableBytes >= 4 + Int(length) else { return .needMoreData }
        buffer.moveReaderIndex(forwardBy: 4)
        context.fireChannelRead(Self.wrapInboundOut(buffer.readSlice(length: Int(length))!))
        return .continue
    }

    public mutating func decodeLast(context: ChannelHandlerContext, buffer: inout ByteBuffer,
                                    seenEOF: Bool) throws -> DecodingState {
        while try decode(context: context, buffer: &buffer) == .continue {}
        return .needMoreData
    }
}

/// Prefixes each outbound frame body with its u32 big-endian length.
///
/// A body over `maxFrameBytes` is a bug in this node (callers check sizes first): it fails the
/// write with `frameTooLarge` instead of sending what the peer would refuse.
public struct FrameEncoder: MessageToByteEncoder, Sendable {
    public typealias OutboundIn = ByteBuffer
    public let maxFrameBytes: Int

    public init(maxFrameBytes: Int) { self.maxFrameBytes = maxFrameBytes }

    public func encode(data: ByteBuffer, out: inout ByteBuffer) throws {
        guard data.readableBytes <= maxFrameBytes else {
            throw PeerTransportError.frameTooLarge(bytes: data.readableBytes, maxFrameBytes: maxFrameBytes)
        }
        out.writeInteger(UInt32(data.readableBytes))
        out.writeImmutableBuffer(data)
    }
}
