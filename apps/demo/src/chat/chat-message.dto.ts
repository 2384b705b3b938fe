import { IsString, MaxLength, MinLength } from 'class-validator';

/** What `chat.post` accepts (kwargs); the global ValidationPipe answers anything else with invalid_argument. */
export class ChatMessageDto {
  @IsString()
  @MinLength(1)
  @MaxLength(32)
  user!: string;

  @IsString()
  @MinLength(1)
  @MaxLength(500)
  text!: string;
}
