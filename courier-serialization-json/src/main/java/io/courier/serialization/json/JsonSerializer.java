package io.courier.serialization.json;

import com.fasterxml.jackson.annotation.JsonAutoDetect;
import com.fasterxml.jackson.annotation.PropertyAccessor;
import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.ObjectWriter;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.datatype.jdk8.Jdk8Module;
import com.fasterxml.jackson.datatype.jsr310.JavaTimeModule;
import io.courier.spi.ClassRejectedException;
import io.courier.spi.NamedArguments;
import io.courier.spi.SerializationException;
import io.courier.spi.Serializer;
import io.courier.spi.SerializerConfig;
import java.io.CharConversionException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.lang.reflect.Type;
import java.util.Map;
import java.util.Set;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Collectors;

/**
 * A Jackson mapper configured for untrusted input. Reads arguments as an array, or (for the
 * HTTP/JSON bridge and generic invocation) as an object of named arguments. Thread-safe.
 */
final class JsonSerializer implements Serializer, NamedArguments {

  private final ObjectMapper mapper;
  private final Map<Type, JavaType> types = new ConcurrentHashMap<>();
  private final Map<Type, ObjectWriter> writers = new ConcurrentHashMap<>();
  private final Map<Type, ObjectReader> readers = new ConcurrentHashMap<>();

  JsonSerializer(SerializerConfig config) {
    Set<Class<?>> allowed = config.allowedTypes();
    Set<String> allowedNames = allowed.stream().map(Class::getName)
        .collect(Collectors.toUnmodifiableSet());
    JsonMapper m = JsonMapper.builder()
        // classes named by a payload are judged by name before Jackson loads them
        .typeFactory(new CheckedTypeFactory(allowedNames))
        .addModule(new JavaTimeModule())
        .addModule(new Jdk8Module())
        .disable(SerializationFeature.WRITE_DATES_AS_TIMESTAMPS)
        .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS)
        .enable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
        .enable(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES)
        // Only matters if an application class asks for @JsonTypeInfo: even then, a payload may
        // only name classes on the allow-list.
        .polymorphicTypeValidator(new AllowListValidator(allowed))
        .visibility(PropertyAccessor.FIELD, JsonAutoDetect.Visibility.ANY)
        .build();
    m.getFactory().setStreamReadConstraints(StreamReadConstraints.builder()
        .maxNestingDepth(config.maxDepth())
        .build());
    this.mapper = m;
  }

  private JavaType javaType(Type t) {
    return types.computeIfAbsent(t, x -> mapper.getTypeFactory().constructType(x));
  }

  /** A writer per declared type, made once: Jackson's writers are immutable and shareable. */
  private ObjectWriter writer(Type t) {
    return writers.computeIfAbsent(t, x -> mapper.writerFor(javaType(x)));
  }

  private ObjectReader reader(Type t) {
    return readers.computeIfAbsent(t, x -> mapper.readerFor(javaType(x))
        .with(DeserializationFeature.FAIL_ON_TRAILING_TOKENS));
  }

  @Override
  public void writeArguments(Object[] args, Type[] declared, OutputStream out)
      throws IOException {
    try (JsonGenerator g = mapper.getFactory().createGenerator(out)) {
      g.writeStartArray();
      for (int i = 0; i < args.length; i++) {
        writer(declared[i]).writeValue(g, args[i]);
      }
      g.writeEndArray();
    } catch (JsonProcessingException e) {
      throw new SerializationException("cannot write JSON: " + e.getOriginalMessage(), e);
    }
  }

  @Override
  public Object[] readArguments(Type[] declared, InputStream in) throws IOException {
    CheckedTypeFactory.takeRejected();
    return checked(readArgumentArray(declared, in));
  }

  /**
   * A read's result, unless a class was rejected along the way (whatever Jackson made of that).
   */
  private static <T> T checked(T result) throws ClassRejectedException {
    String rejected = CheckedTypeFactory.takeRejected();
    if (rejected != null) {
      throw new ClassRejectedException(rejected);
    }
    return result;
  }

  private Object[] readArgumentArray(Type[] declared, InputStream in) throws IOException {
    try (JsonParser p = mapper.getFactory().createParser(in)) {
      if (p.nextToken() != JsonToken.START_ARRAY) {
        throw new SerializationException("expected a JSON array of " + declared.length
            + " arguments " + signature(declared));
      }
      Object[] args = new Object[declared.length];
      for (int i = 0; i < declared.length; i++) {
        if (p.nextToken() == JsonToken.END_ARRAY) {
          throw new SerializationException("expected " + declared.length + " arguments "
              + signature(declared) + ", got " + i);
        }
        args[i] = mapper.readValue(p, javaType(declared[i]));
      }
      if (p.nextToken() != JsonToken.END_ARRAY) {
        int extra = 0;
        do {
          p.skipChildren();
          extra++;
        } while (p.nextToken() != JsonToken.END_ARRAY && p.currentToken() != null);
        throw new SerializationException("expected " + declared.length + " arguments "
            + signature(declared) + ", got " + (declared.length + extra));
      }
      if (p.nextToken() != null) {
        throw new SerializationException("trailing data after the argument array");
      }
      return args;
    } catch (JsonProcessingException | CharConversionException  // bytes in no Unicode encoding
        | CheckedTypeFactory.Rejected e) {
      throw translate(e);
    }
  }

  @Override
  public Object[] readNamedArguments(Type[] declared, String[] names, InputStream in)
      throws IOException {
    CheckedTypeFactory.takeRejected();
    return checked(readArgumentObject(declared, names, in));
  }

  private Object[] readArgumentObject(Type[] declared, String[] names, InputStream in)
      throws IOException {
    try (JsonParser p = mapper.getFactory().createParser(in)) {
      if (p.nextToken() != JsonToken.START_OBJECT) {
        throw new SerializationException("expected a JSON object of named arguments "
            + namedSignature(declared, names));
      }
      Object[] args = new Object[declared.length];
      boolean[] given = new boolean[declared.length];
      while (p.nextToken() == JsonToken.FIELD_NAME) {
        String key = p.currentName();
        int i = indexOf(names, key);
        if (i < 0) {
          throw new SerializationException("unknown argument '" + key + "' (expected: "
              + namedSignature(declared, names) + ")");
        }
        if (given[i]) {
          throw new SerializationException("argument '" + key + "' given twice");
        }
        p.nextToken();
        args[i] = mapper.readValue(p, javaType(declared[i]));
        given[i] = true;
      }
      for (int i = 0; i < names.length; i++) {
        if (!given[i]) {
          throw new SerializationException("missing argument '" + names[i] + "' (expected: "
              + namedSignature(declared, names) + ")");
        }
      }
      if (p.nextToken() != null) {
        throw new SerializationException("trailing data after the argument object");
      }
      return args;
    } catch (JsonProcessingException | CharConversionException  // bytes in no Unicode encoding
        | CheckedTypeFactory.Rejected e) {
      throw translate(e);
    }
  }

  private static int indexOf(String[] names, String key) {
    for (int i = 0; i < names.length; i++) {
      if (names[i].equals(key)) {
        return i;
      }
    }
    return -1;
  }

  private static String namedSignature(Type[] types, String[] names) {
    StringJoiner j = new StringJoiner(", ", "{", "}");
    for (int i = 0; i < types.length; i++) {
      Type t = types[i];
      j.add(names[i] + ": " + (t instanceof Class<?> c ? c.getSimpleName() : t.getTypeName()));
    }
    return j.toString();
  }

  @Override
  public void writeValue(Object value, Type type, OutputStream out) throws IOException {
    try {
      writer(type).writeValue(out, value);
    } catch (JsonProcessingException e) {
      throw new SerializationException("cannot write JSON: " + e.getOriginalMessage(), e);
    }
  }

  @Override
  public Object readValue(Type type, InputStream in) throws IOException {
    CheckedTypeFactory.takeRejected();
    try {
      return checked(reader(type).readValue(in));
    } catch (JsonProcessingException | CharConversionException  // bytes in no Unicode encoding
        | CheckedTypeFactory.Rejected e) {
      throw translate(e);
    }
  }

  private static SerializationException translate(Exception e) {
    String rejected = CheckedTypeFactory.takeRejected();
    if (rejected != null) {
      return new ClassRejectedException(rejected);
    }
    String msg = e instanceof JsonProcessingException j ? j.getOriginalMessage() : e.getMessage();
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof ClassRejectedException r) {
        return r;
      }
      if (t instanceof CheckedTypeFactory.Rejected r) {
        return new ClassRejectedException(r.className);
      }
    }
    if (msg != null && msg.contains("PolymorphicTypeValidator")) {
      return new SerializationException("class rejected: " + msg, e);
    }
    return new SerializationException("invalid JSON: " + msg, e);
  }

  private static String signature(Type[] types) {
    StringJoiner j = new StringJoiner(", ", "(", ")");
    for (Type t : types) {
      j.add(t instanceof Class<?> c ? c.getSimpleName() : t.getTypeName());
    }
    return j.toString();
  }
}
