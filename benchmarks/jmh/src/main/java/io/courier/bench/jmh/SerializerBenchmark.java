package io.courier.bench.jmh;

import io.courier.internal.codec.Bodies;
import io.courier.spi.Serializer;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufOutputStream;
import io.netty.buffer.PooledByteBufAllocator;
import java.io.IOException;
import java.io.InputStream;
import java.lang.reflect.Type;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Each serializer writing and reading a call's arguments, on its own, for a small object (a record
 * of five fields) and a medium one (20 nested records and a map of 10 entries).
 *
 * <p>{@code writeArguments} writes into a pooled direct buffer through a
 * {@link ByteBufOutputStream}, as the client's encoder does (the buffer is allocated once and
 * cleared before each write). {@code readArguments} reads an encoded body through
 * {@link Bodies#open}, as the server's call does, and returns the argument array. Protobuf carries
 * the same data as {@code google.protobuf.Struct} (see {@link Payloads}).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class SerializerBenchmark {

  @Param({"fory", "protobuf", "json"})
  public String format;

  @Param({"small", "medium"})
  public String size;

  private Serializer serializer;
  private Type[] types;
  private Object[] args;
  private ByteBuf out;
  private ByteBuf encoded;

  @Setup(Level.Trial)
  public void setUp() throws IOException {
    Payloads.Call call = Payloads.call(format, size);
    serializer = call.serializer();
    types = call.types();
    args = call.args();
    out = PooledByteBufAllocator.DEFAULT.directBuffer(8192);
    encoded = PooledByteBufAllocator.DEFAULT.directBuffer(8192);
    try (ByteBufOutputStream stream = new ByteBufOutputStream(encoded)) {
      serializer.writeArguments(args, types, stream);
    }
    Object[] back = serializer.readArguments(types, Bodies.open(encoded.duplicate(), 0, 1 << 20));
    if (!Arrays.equals(back, args)) {
      throw new IllegalStateException(format + " did not read back what it wrote: "
          + Arrays.toString(back));
    }
  }

  @TearDown(Level.Trial)
  public void tearDown() {
    Leaks.releaseLast(out, "the write buffer");
    Leaks.releaseLast(encoded, "the encoded body");
  }

  /** Writes the arguments; returns the bytes written. */
  @Benchmark
  public int writeArguments() throws IOException {
    out.clear();
    try (ByteBufOutputStream stream = new ByteBufOutputStream(out)) {
      serializer.writeArguments(args, types, stream);
    }
    return out.writerIndex();
  }

  /** Reads the arguments back from an encoded body. */
  @Benchmark
  public Object[] readArguments() throws IOException {
    encoded.readerIndex(0);
    InputStream in = Bodies.open(encoded, 0, 1 << 20);
    return serializer.readArguments(types, in);
  }
}
