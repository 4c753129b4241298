package io.courier.internal.protocol;

/**
 * Constants of the Courier binary frame. The layout is documented byte by byte in
 * {@code docs/protocol.md}; keep the two in step.
 *
 * <pre>
 *  0      2      3      4      5      6      7      8              12             16             20     22             26
 *  +------+------+------+------+------+------+------+--------------+--------------+--------------+------+--------------+----------+------+
 *  |magic |ver   |flags |ser   |comp  |status|rsvd  | request id   | word A       | word B       |meta  | body length  | metadata | body |
 *  |C0 1E |01    |      |id    |id    |      |00    | u32          | u32          | u32          |u16   | u32          |          |      |
 *  +------+------+------+------+------+------+------+--------------+--------------+--------------+------+--------------+----------+------+
 *  request:  word A = call ID, word B = timeout in milliseconds (0 = none)
 *  response: word A = server queued microseconds, word B = server executing microseconds
 *  stream:   opening frame as a request; other stream frames: word A = stream frame type
 * </pre>
 */
public final class Frame {

  private Frame() {}

  /** The two magic bytes, {@code 0xC0 0x1E}. */
  public static final int MAGIC = 0xC01E;
  /** The only protocol version so far. */
  public static final int VERSION = 1;
  /** Bytes in the fixed header. */
  public static final int HEADER_LENGTH = 26;

  /** The frame answers a request (clear: the frame is a request). */
  public static final int FLAG_RESPONSE = 0x01;
  /** A request that expects no answer. */
  public static final int FLAG_ONE_WAY = 0x02;
  /** A heartbeat: a ping, or with {@link #FLAG_RESPONSE} a pong. No body. */
  public static final int FLAG_HEARTBEAT = 0x04;
  /** The client gives up the request with this id; the server skips or abandons it. */
  public static final int FLAG_CANCEL = 0x08;
  /**
   * The sender takes no new calls on this connection. With a non-OK status it is a connection
   * error, and the body holds an error body explaining it; the sender then closes.
   */
  public static final int FLAG_GOAWAY = 0x10;
  /**
   * The frame belongs to a streaming call. Word A holds the stream frame type
   * ({@link #STREAM_MESSAGE}, {@link #STREAM_WINDOW}, {@link #STREAM_END}), except on the frame
   * that opens the stream ({@link #FLAG_OPEN_STREAM}) and on CANCEL.
   */
  public static final int FLAG_STREAM = 0x20;
  /**
   * With {@link #FLAG_STREAM}, a request that opens a stream: word A is the call ID, word B the
   * timeout, like a unary request.
   */
  public static final int FLAG_OPEN_STREAM = 0x40;
  /** Flags this version defines; a frame with any other bit set is a protocol error. */
  public static final int KNOWN_FLAGS = 0x7F;

  /** Stream frame type: one message, serialized like a unary result. */
  public static final int STREAM_MESSAGE = 1;
  /** Stream frame type: the receiver grants word B more messages (1 to 2^31-1). */
  public static final int STREAM_WINDOW = 2;
  /**
   * Stream frame type: the sender's last frame of its direction. From the client a half-close;
   * from the server the call's final status (status byte, error body when not OK).
   */
  public static final int STREAM_END = 3;
  /** Messages each receiver grants its peer when a stream starts. */
  public static final int INITIAL_STREAM_WINDOW = 16;

  // Offsets into the fixed header.
  public static final int OFF_MAGIC = 0;
  public static final int OFF_VERSION = 2;
  public static final int OFF_FLAGS = 3;
  public static final int OFF_SERIALIZER = 4;
  public static final int OFF_COMPRESSOR = 5;
  public static final int OFF_STATUS = 6;
  public static final int OFF_RESERVED = 7;
  public static final int OFF_REQUEST_ID = 8;
  public static final int OFF_WORD_A = 12;
  public static final int OFF_WORD_B = 16;
  public static final int OFF_METADATA_LENGTH = 20;
  public static final int OFF_BODY_LENGTH = 22;
}
