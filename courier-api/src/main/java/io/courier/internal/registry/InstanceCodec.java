package io.courier.internal.registry;

import io.courier.registry.ServiceInstance;
import java.io.IOException;
import java.io.StringReader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.TreeMap;

/**
 * A registered provider's data as every Courier registry stores it: {@code java.util.Properties}
 * text (plain key=value lines, no code, no class names), so anyone with {@code zkCli.sh get} or
 * {@code etcdctl get} can read it and a hostile entry can at worst be unreadable. Stateless.
 *
 * <p>Internal to Courier's registry modules; not a public API.
 */
public final class InstanceCodec {

  /** Entries larger than this are refused unread. */
  public static final int MAX_BYTES = 64 * 1024;

  private static final String META = "meta.";

  private InstanceCodec() {}

  /**
   * The entry data for {@code instance}: a function of the instance alone, byte for byte (sorted
   * lines, no date comment), so that a registry can compare what it stored with what it would
   * store to tell whether its entry was changed.
   */
  public static byte[] encode(ServiceInstance i) {
    Map<String, String> p = new TreeMap<>();
    p.put("service", i.service());
    p.put("host", i.host());
    p.put("port", Integer.toString(i.port()));
    p.put("protocol", i.protocol());
    p.put("serializers", String.join(",", i.serializers()));
    p.put("weight", Integer.toString(i.weight()));
    p.put("tags", String.join(",", i.tags()));
    p.put("version", i.version());
    i.metadata().forEach((k, v) -> p.put(META + k, v));
    Properties props = new Properties();
    props.putAll(p);
    StringWriter w = new StringWriter();
    try {
      props.store(w, null);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    // store() begins with a comment holding the current date; escapes a leading '#' or '!' in
    // keys and values; and writes each entry on one line (line breaks in values are escaped)
    StringBuilder text = new StringBuilder();
    w.toString().lines().filter(l -> !l.startsWith("#")).sorted()
        .forEach(l -> text.append(l).append('\n'));
    return text.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Decodes entry data; null when it is not a valid instance (empty, too large, malformed). */
  public static ServiceInstance decode(byte[] data) {
    if (data == null || data.length == 0 || data.length > MAX_BYTES) {
      return null;
    }
    Properties p = new Properties();
    try {
      p.load(new StringReader(new String(data, StandardCharsets.UTF_8)));
      ServiceInstance.Builder b = ServiceInstance.builder(p.getProperty("service"),
          p.getProperty("host"), Integer.parseInt(p.getProperty("port")))
          .protocol(p.getProperty("protocol", "courier"))
          .serializers(split(p.getProperty("serializers", "")))
          .weight(Integer.parseInt(p.getProperty("weight", "100")))
          .version(p.getProperty("version", ""));
      split(p.getProperty("tags", "")).forEach(b::tag);
      for (String k : p.stringPropertyNames()) {
        if (k.startsWith(META)) {
          b.metadata(k.substring(META.length()), p.getProperty(k));
        }
      }
      return b.build();
    } catch (IOException | RuntimeException e) {
      return null;
    }
  }

  /**
   * Decodes the data of the entry stored for {@code service} under the name {@code address};
   * null unless it is a valid instance of that service at that address, so an entry cannot
   * pass itself off as another service or another provider.
   */
  public static ServiceInstance decode(byte[] data, String service, String address) {
    ServiceInstance i = decode(data);
    return i != null && i.service().equals(service) && i.address().equals(address) ? i : null;
  }

  private static List<String> split(String s) {
    return s.isEmpty() ? List.of() : Arrays.asList(s.split(","));
  }
}
