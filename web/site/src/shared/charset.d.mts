export declare const asciiTypographic: string;
