import { SetMetadata } from '@nestjs/common';

export const IS_PUBLIC_METADATA = 'openclaw:public';

/** Marks a route or RPC method that needs no token. It is the only way past authentication. */
export const Public = (): MethodDecorator & ClassDecorator => SetMetadata(IS_PUBLIC_METADATA, true);
