/** A method decorator that adds `entry` to the list stored under `key` on the method itself. */
export function appendMethodMetadata<T>(key: string, entry: T): MethodDecorator {
  return (_target, _propertyKey, descriptor) => {
    const method = descriptor.value as object;
    const entries: T[] = Reflect.getMetadata(key, method) ?? [];
    Reflect.defineMetadata(key, [...entries, entry], method);
    return descriptor;
  };
}
