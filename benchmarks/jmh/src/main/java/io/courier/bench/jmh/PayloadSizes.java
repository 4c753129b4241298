package io.courier.bench.jmh;

import java.io.ByteArrayOutputStream;
import java.io.IOException;

/**
 * Prints how many bytes each serializer writes for the benchmarks' payloads:
 * {@code java -cp benchmarks/jmh/target/bench-jmh.jar io.courier.bench.jmh.PayloadSizes}.
 */
public final class PayloadSizes {

  private PayloadSizes() {}

  public static void main(String[] args) throws IOException {
    System.out.printf("%-9s %6s %7s%n", "format", "small", "medium");
    for (String format : new String[] {"fory", "protobuf", "json"}) {
      System.out.printf("%-9s %6d %7d%n", format, size(format, "small"), size(format, "medium"));
    }
  }

  private static int size(String format, String size) throws IOException {
    Payloads.Call call = Payloads.call(format, size);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    call.serializer().writeArguments(call.args(), call.types(), out);
    return out.size();
  }
}
