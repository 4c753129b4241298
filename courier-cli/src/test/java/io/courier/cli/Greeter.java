package io.courier.cli;

import io.courier.annotation.Idempotent;
import io.courier.annotation.OneWay;
import io.courier.annotation.ServiceName;
import io.courier.annotation.Timeout;
import java.util.List;

/** The service the command tests call. */
@ServiceName("cli.Greeter")
public interface Greeter {

  @Idempotent
  @Timeout(millis = 2000)
  String greet(String name);

  int add(int a, int b);

  List<String> repeat(String word, int times);

  /** Fails every third call with an application error. */
  int tick();

  @OneWay
  void note(String text);
}
