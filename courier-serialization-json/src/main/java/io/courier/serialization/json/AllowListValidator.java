package io.courier.serialization.json;

import com.fasterxml.jackson.databind.cfg.MapperConfig;
import com.fasterxml.jackson.databind.JavaType;
import com.fasterxml.jackson.databind.jsontype.PolymorphicTypeValidator;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * Lets a polymorphic type id (only possible where an application class asks for
 * {@code @JsonTypeInfo}) name only allow-listed classes, judged by name before the class is
 * loaded. Immutable.
 */
final class AllowListValidator extends PolymorphicTypeValidator.Base {

  private static final long serialVersionUID = 1L;

  private final Set<String> allowed;

  AllowListValidator(Set<Class<?>> allowed) {
    this.allowed = allowed.stream().map(Class::getName).collect(Collectors.toUnmodifiableSet());
  }

  @Override
  public Validity validateBaseType(MapperConfig<?> config, JavaType baseType) {
    return Validity.INDETERMINATE;
  }

  @Override
  public Validity validateSubClassName(MapperConfig<?> config, JavaType baseType,
      String subClassName) {
    if (!allowed.contains(subClassName)) {
      throw CheckedTypeFactory.reject(subClassName); // to name it in the caller's error
    }
    return Validity.ALLOWED;
  }

  @Override
  public Validity validateSubType(MapperConfig<?> config, JavaType baseType, JavaType subType) {
    return allowed.contains(subType.getRawClass().getName()) ? Validity.ALLOWED
        : Validity.DENIED;
  }
}
