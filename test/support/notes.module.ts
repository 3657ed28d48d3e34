import { Injectable, Module } from '@nestjs/common';
import { InjectDataSource } from '@nestjs/typeorm';
import { IsString, MaxLength, MinLength } from 'class-validator';
import { randomUUID } from 'node:crypto';
import {
  Column,
  DataSource,
  Entity,
  PrimaryColumn,
  type MigrationInterface,
  type QueryRunner,
} from 'typeorm';
import type { DatabaseExtensionOptions } from '../../src/core/database/database-extension.js';
import type { RpcCallContext } from '../../src/core/rpc/rpc-call-context.js';
import { RpcMethod } from '../../src/core/rpc/rpc-method.decorator.js';

/** An extension's own table, unknown to the core: notes, unique by content. */
@Entity({ name: 'test_notes' })
export class NoteEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 255 })
  owner: string;

  @Column({ type: 'varchar', length: 255, unique: true })
  content: string;
}

/** The extension's migration: valid on SQLite and PostgreSQL alike. */
export class CreateTestNotes1800000000000 implements MigrationInterface {
  name = 'CreateTestNotes1800000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`
      CREATE TABLE "test_notes" (
        "id" varchar(36) NOT NULL,
        "owner" varchar(255) NOT NULL,
        "content" varchar(255) NOT NULL,
        CONSTRAINT "PK_test_notes" PRIMARY KEY ("id"),
        CONSTRAINT "UQ_test_notes_content" UNIQUE ("content")
      )`);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE "test_notes"`);
  }
}

/** What a host passes beside NotesModule: `GatewayModule.forRoot({ database: NOTES_DATABASE })`. */
export const NOTES_DATABASE: DatabaseExtensionOptions = {
  entities: [NoteEntity],
  migrations: [CreateTestNotes1800000000000],
};

export class NoteAddParams {
  @IsString()
  @MinLength(1)
  @MaxLength(255)
  content: string;
}

@Injectable()
export class NotesRpc {
  constructor(@InjectDataSource() private readonly dataSource: DataSource) {}

  @RpcMethod('notes.add', { scope: 'sessions:write', params: NoteAddParams })
  async add(params: NoteAddParams, ctx: RpcCallContext): Promise<NoteEntity> {
    const note = { id: randomUUID(), owner: ctx.caller!.subject, content: params.content };
    // A second note with the same content fails in the database (unique), as an unexpected error.
    return this.dataSource.getRepository(NoteEntity).save(note);
  }

  @RpcMethod('notes.list', { scope: 'sessions:read' })
  async list(_params: object, ctx: RpcCallContext): Promise<string[]> {
    const notes = await this.dataSource
      .getRepository(NoteEntity)
      .find({ where: { owner: ctx.caller!.subject }, order: { content: 'ASC' } });
    return notes.map((note) => note.content);
  }
}

@Module({ providers: [NotesRpc] })
export class NotesModule {}
